/** Every scope ACS can put in a user access token. */
export const ACS_SCOPES = ['chat', 'voip', 'chat.join', 'chat.join.limited', 'voip.join'] as const;
export type AcsScope = (typeof ACS_SCOPES)[number];

/** ACS refuses token lifetimes outside 1 h..24 h. */
export const ACS_MIN_EXPIRY_MINUTES = 60;
export const ACS_MAX_EXPIRY_MINUTES = 1440;
