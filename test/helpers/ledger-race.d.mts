/** `writers` processes each recording `each` deployments (ids w<n>-<i>) in one ledger at once. */
export function ledgerRace(o: {
  location: string;
  writers: number;
  each: number;
}): Promise<{ codes: Array<number | null>; stderr: string; ms: number }>;
