import type { Migration } from "../store/db.ts";

/**
 * Households' profiles: what they chose to show of themselves (a display name, and whether the leaderboard
 * may name them). Kept off chain and not part of the index: `peergrid reindex` leaves it as it is.
 */
export const profilesSchema: Migration = {
  name: "api_002_profiles",
  sql: `
create table profiles (
  account text primary key, display_name text not null, show_on_leaderboard boolean not null, updated_at int8 not null);
`,
};
