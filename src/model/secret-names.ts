/**
 * Which names say "secret": a key is split into words (snake_case, kebab-case, dots,
 * camelCase, UPPER_CASE, digits apart) and is secret-named when one of its words is a secret
 * word (password, pass, pwd, passphrase, secret, token, credential, ... or a one-word compound
 * ending in one: `dbpassword`, `authtoken`), or when its last word is `key`/`keys` or a key
 * compound (`apikey`, `privatekey`). Only the last word counts for keys: `API_KEY`,
 * `signingKey` are secrets, `kmsKeyId`, `keyName`, `KEY_PREFIX` name one.
 */

/** Words that name a secret wherever they stand in a name. */
const SECRET_WORDS = new Set([
  'password',
  'passwords',
  'passwd',
  'pass',
  'pwd',
  'passphrase',
  'passphrases',
  'secret',
  'secrets',
  'token',
  'tokens',
  'credential',
  'credentials',
]);
/**
 * One-word compounds that end in one of these are secret words too (`dbpassword`,
 * `clientsecret`, `authtoken`). `pass` and `pwd` are left out: `bypass`, `compass`, `oldpwd`
 * (the shell's previous directory) end in them and are not secrets.
 */
const COMPOUND_ENDINGS = /(password|passwd|passphrase|secret|token|credential)s?$/;
/** `key` compounds written as one word; like `key`, they count only as the last word (`apikeyId` names a key). */
const KEY_WORD = /^(api|private|access|secret|auth|signing|encryption|master|client|session|ssh|hmac|license|app|deploy)?keys?$/;

/** The words of a name, lowercase: `DB_PASS` -> db, pass; `masterPassphrase` -> master, passphrase; `APIKey2` -> api, key, 2. */
export function nameWords(name: string): string[] {
  return name
    .replace(/([a-z])([A-Z])/g, '$1 $2') // camelCase
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2') // an acronym before a word: APIKey
    .replace(/([A-Za-z])([0-9])/g, '$1 $2') // digits apart: oauth2Token, s3Key
    .replace(/([0-9])([A-Za-z])/g, '$1 $2')
    .split(/[^A-Za-z0-9]+/)
    .filter((w) => w !== '')
    .map((w) => w.toLowerCase());
}

/**
 * The word that makes `name` a secret's name, or undefined when it names no secret.
 * Trailing numbers do not count as the last word (`API_KEY_2` is a key).
 */
export function secretWord(name: string): string | undefined {
  // The same few hundred keys come back in every document: each name is split once.
  if (memo.has(name)) return memo.get(name);
  if (memo.size >= MEMO_LIMIT) memo.clear();
  const word = secretWordOf(name);
  memo.set(name, word);
  return word;
}

const memo = new Map<string, string | undefined>();
/** Bounds the memory a stack of many distinct keys (or a hostile one) can take. */
const MEMO_LIMIT = 10_000;

function secretWordOf(name: string): string | undefined {
  const words = nameWords(name);
  const found = words.find((w) => SECRET_WORDS.has(w) || COMPOUND_ENDINGS.test(w));
  if (found !== undefined) return found;
  const last = words.filter((w) => !/^[0-9]+$/.test(w)).at(-1);
  return last !== undefined && KEY_WORD.test(last) ? last : undefined;
}

/** Whether `name` says its value is a secret (see secretWord). */
export function isSecretName(name: string): boolean {
  return secretWord(name) !== undefined;
}
