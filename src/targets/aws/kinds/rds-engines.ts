/**
 * The database engines RDS runs, each with its defaults (rds.ts makes the resources): port,
 * pinned version, exported logs, the parameters that force TLS, master user, instance classes,
 * and the parameter group family of a version.
 */

/**
 * An engine's defaults: its port, the version when the spec gives none (pinned, so that a plan
 * does not change when AWS's default does), the logs RDS exports to CloudWatch, the parameters
 * that refuse clients without TLS, the master user, and instance classes [elsewhere, production].
 */
const info = (port: number, version: string, logs: string[], tls: Record<string, string>, user: string, classes: [string, string]) => ({
  port,
  version,
  logs,
  tls,
  user,
  classes,
});
export type EngineInfo = ReturnType<typeof info>;
const POSTGRES_TLS = { 'rds.force_ssl': '1' };
const MYSQL_TLS = { require_secure_transport: 'ON' };
const MYSQL_LOGS = ['error', 'slowquery'];
const GRAVITON: [string, string] = ['db.t4g.micro', 'db.m7g.large'];
const X86: [string, string] = ['db.t3.small', 'db.m6i.large'];
const AURORA: [string, string] = ['db.t4g.medium', 'db.r7g.large'];
// Oracle takes TLS as an option (oracleOptions); SQL Server's rds.force_ssl is static, applied at the reboot every parameter waits for.
const oracle = info(1521, '19', ['alert', 'listener'], {}, 'admin', X86);
const sqlserver = info(1433, '16.00', ['agent', 'error'], POSTGRES_TLS, 'admin', X86);

export const ENGINES = {
  postgres: info(5432, '17', ['postgresql', 'upgrade'], POSTGRES_TLS, 'postgres', GRAVITON),
  mysql: info(3306, '8.4', MYSQL_LOGS, MYSQL_TLS, 'admin', GRAVITON),
  mariadb: info(3306, '11.4', MYSQL_LOGS, MYSQL_TLS, 'admin', GRAVITON),
  'aurora-postgresql': info(5432, '16.6', ['postgresql'], POSTGRES_TLS, 'postgres', AURORA),
  'aurora-mysql': info(3306, '8.0.mysql_aurora.3.08.0', MYSQL_LOGS, MYSQL_TLS, 'admin', AURORA),
  'oracle-se2': oracle,
  'oracle-ee': oracle,
  'sqlserver-ex': sqlserver,
  'sqlserver-web': sqlserver,
  'sqlserver-se': sqlserver,
  'sqlserver-ee': sqlserver,
};

/** An engine RDS runs, as the spec names it. */
export type Engine = keyof typeof ENGINES;

/** The parameter group family of an engine version (postgres16, mysql8.0, aurora-mysql8.0, oracle-se2-19, sqlserver-ex-16.0 ...). */
export function parameterFamily(engine: Engine, version: string): string {
  const [major = '', minor = '0'] = version.split('.');
  if (engine === 'postgres' || engine === 'aurora-postgresql')
    return Number(major) >= 10 ? `${engine}${major}` : `${engine}${major}.${minor}`;
  if (engine.startsWith('oracle-')) return `${engine}-${major}`;
  if (engine.startsWith('sqlserver-')) return `${engine}-${Number(major)}.0`;
  return `${engine}${major}.${minor}`;
}
