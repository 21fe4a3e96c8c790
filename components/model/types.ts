// The config's types, as parseLabConfig returns it. Their shape comes from the schema alone
// (config.types.ts is generated from it); this module only adds what parsing itself does.
import type { GuestConfig, MigrationConfig, NodeConfig, ParsedLabConfig, SlaConfig, SshArgs } from "./config.types";

export type { GuestConfig, MigrationConfig, NodeConfig, SlaConfig, SshArgs };

/**
 * The parsed lab. `migration` is there as the config gave it (absent when it gave
 * `migrations`); `migrations` always lists every migration in order, the single one included.
 */
export type LabConfig = ParsedLabConfig & { migrations: MigrationConfig[] };
