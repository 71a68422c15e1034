/**
 * `npm run package` (and azure.yaml's prepackage hook, which runs it): after `npm ci` and the
 * build, stages the folder azd deploys and writes the same zip azd would, then prints its size.
 */
import path from 'node:path';
import { buildPackage, STAGE_DIR } from './artifact';

const projectRoot = path.resolve(__dirname, '..', '..', '..');
const built = buildPackage(projectRoot);
const mb = (bytes: number) => (bytes / 1024 / 1024).toFixed(2);
console.log(
  [
    `package: ${path.relative(projectRoot, built.zipFile)} (staged in ${STAGE_DIR}, which azd zips)`,
    `  ${built.files.length} files, ${mb(built.unpackedBytes)} MB unpacked, ${mb(built.zipBytes)} MB zipped`,
  ].join('\n'),
);
