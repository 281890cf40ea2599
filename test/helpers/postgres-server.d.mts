/** The directory of Debian's PostgreSQL binaries (PG_BIN, else the newest installed). */
export function postgresBinaries(): string;
/** A throwaway PostgreSQL cluster on loopback: its `postgres` database's URL, and what stops and removes it. */
export function startPostgres(options?: { durable?: boolean }): Promise<{ url: string; owner: number | undefined; stop(): Promise<void> }>;
/** The variable naming the server the tests create their databases on. */
export const TEST_POSTGRES_ENV: 'TESTS_OF_DEPLOYER_POSTGRES_URL';
