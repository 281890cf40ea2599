/**
 * The name rule (secret-names.ts): words of a name in every casing, the secret words anywhere
 * (and one-word compounds ending in one), `key` only as the last word.
 */
import { describe, expect, it } from 'vitest';
import { isSecretName, nameWords, secretWord } from './secret-names.js';

describe('nameWords()', () => {
  it('splits snake_case, kebab-case, dots, camelCase, UPPER_CASE, acronyms and digits', () => {
    expect(nameWords('DB_PASS')).toEqual(['db', 'pass']);
    expect(nameWords('masterPassphrase')).toEqual(['master', 'passphrase']);
    expect(nameWords('apiKey')).toEqual(['api', 'key']);
    expect(nameWords('deploy-token.v2')).toEqual(['deploy', 'token', 'v', '2']);
    expect(nameWords('APIKey')).toEqual(['api', 'key']);
    expect(nameWords('oauth2Token')).toEqual(['oauth', '2', 'token']);
    expect(nameWords('deployer.io/not-secret')).toEqual(['deployer', 'io', 'not', 'secret']);
  });
});

describe('secretWord()', () => {
  it('finds a secret word anywhere in the name', () => {
    const names = [
      'DB_PASSWORD',
      'DB_PASS',
      'MASTER_PASSPHRASE',
      'userPwd',
      'passwd',
      'clientSecret',
      'SECRETS_DIR',
      'API_TOKEN',
      'TOKEN_URL',
      'awsCredentials',
      'credential-file',
    ];
    expect(names.map(secretWord)).toEqual([
      'password',
      'pass',
      'passphrase',
      'pwd',
      'passwd',
      'secret',
      'secrets',
      'token',
      'token',
      'credentials',
      'credential',
    ]);
  });

  it('finds one-word compounds: dbpassword, authtoken, apikey, privatekey', () => {
    expect(['DBPASSWORD', 'authtoken', 'clientsecret', 'APIKEY', 'privatekey', 'accessKeys'].map(secretWord)).toEqual([
      'dbpassword',
      'authtoken',
      'clientsecret',
      'apikey',
      'privatekey',
      'keys',
    ]);
  });

  it('takes key only as the last word (trailing numbers aside)', () => {
    expect(['API_KEY', 'SECRET_KEY', 'signingKey', 'owner-key', 'sortKey', 'API_KEY_2', 'kmsKeys'].every(isSecretName)).toBe(true);
    expect(['kmsKeyId', 'keyName', 'KEY_PREFIX', 'apikeyId', 'monkey', 'hockey'].some(isSecretName)).toBe(false);
  });

  it('leaves other names alone, also those that merely contain pass or pwd', () => {
    expect(
      ['BUILD_ID', 'GREETING', 'bypass', 'BYPASS_CACHE', 'compass', 'OLDPWD', 'passenger', 'tokenizer', 'secretary', ''].some(isSecretName),
    ).toBe(false);
  });
});
