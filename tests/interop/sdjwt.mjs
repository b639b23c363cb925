// The independent side of PIC's SD-JWT VC interop tests (tests/unit/core/test_sdjwt_interop.py): the
// OpenWallet Foundation's TypeScript implementation (@sd-jwt/*, versions pinned in package.json), driven over
// stdin/stdout JSON so the Python tests can ask it to verify what PIC issued and to issue what PIC verifies.
//
//   node sdjwt.mjs verify   {presentation, jwks, aud, nonce, now, status_tokens: {uri: token}}
//   node sdjwt.mjs issue    {claims, frame, present_frame, vct, iss, iat, exp, nbf?, status?, issuer_jwk?, aud, nonce,
//                            kb_iat?, tamper?}
//   node sdjwt.mjs status   {token, jwks, now, indexes: [..]}
//   node sdjwt.mjs batch    [{command, input}, ...]  -> {ok: true, answers: [...]}: one Node start for many
//
// The answer is {ok: true, ...} or {ok: false, error: "<the library's message>"}; the exit status is 0 either
// way (a refusal is an answer, not a crash).
import { SDJwtVcInstance } from '@sd-jwt/sd-jwt-vc';
import { ES256, digest, generateSalt } from '@sd-jwt/crypto-nodejs';
import { getListFromStatusListJWT } from '@sd-jwt/jwt-status-list';
import { Jwt } from '@sd-jwt/core';
import { base64urlEncode, base64urlDecode, uint8ArrayToBase64Url } from '@sd-jwt/utils';

const REGISTERED = new Set(['iss', 'iat', 'nbf', 'exp', 'vct', 'cnf', 'status', '_sd_alg', 'sub', '_sd']);

async function readStdin() {
  const chunks = [];
  for await (const chunk of process.stdin) chunks.push(chunk);
  return JSON.parse(Buffer.concat(chunks).toString('utf8'));
}

// The library's verifier callback receives the signing input only: the kid is read from its header and looked
// up in the issuer's JWKS (what a verifier does with PIC's /.well-known/jwt-vc-issuer metadata); only ES256.
function jwksVerifier(jwks) {
  return async (data, signature) => {
    const header = JSON.parse(base64urlDecode(data.split('.')[0]));
    if (header.alg !== 'ES256') throw new Error(`alg ${header.alg} not allowed`);
    const jwk = (jwks.keys || []).find((key) => key.kid === header.kid);
    if (!jwk) throw new Error(`unknown kid ${header.kid}`);
    const { kid, alg, use, ...publicJwk } = jwk;
    return (await ES256.getVerifier(publicJwk))(data, signature);
  };
}

async function kbVerifier(data, signature, payload) {
  const jwk = payload?.cnf?.jwk;
  if (!jwk) throw new Error('no cnf.jwk');
  return (await ES256.getVerifier(jwk))(data, signature);
}

async function verify(input) {
  const statusTokens = input.status_tokens || {};
  const instance = new SDJwtVcInstance({
    hasher: digest,
    verifier: jwksVerifier(input.jwks),
    kbVerifier,
    statusListFetcher: async (uri) => {
      if (!(uri in statusTokens)) throw new Error(`no status list for ${uri}`);
      return statusTokens[uri];
    },
  });
  const result = await instance.verify(input.presentation, {
    keyBindingNonce: input.nonce,
    currentDate: input.now,
    skewSeconds: 60,
  });
  // the library checks the nonce and sd_hash but leaves the audience to its caller
  if (result.kb.payload.aud !== input.aud) throw new Error(`aud ${result.kb.payload.aud} is not ${input.aud}`);
  const claims = Object.fromEntries(Object.entries(result.payload).filter(([name]) => !REGISTERED.has(name)));
  return { claims, vct: result.payload.vct, iss: result.payload.iss, kb: result.kb.payload, header: result.header };
}

async function keyPair() {
  const { publicKey, privateKey } = await ES256.generateKeyPair();
  const clean = ({ kty, crv, x, y }) => ({ kty, crv, x, y });
  return { publicJwk: clean(publicKey), privateKey };
}

async function issue(input) {
  // issuer_jwk: the issuer's private JWK when the caller publishes its key (PIC's verifier reads it from a stand-in
  // issuer's metadata and status list); else a key of its own
  const clean = ({ kty, crv, x, y }) => ({ kty, crv, x, y });
  const issuer = input.issuer_jwk ? { publicJwk: clean(input.issuer_jwk), privateKey: input.issuer_jwk } : await keyPair();
  const holder = await keyPair();
  const kid = 'interop-issuer-1';
  const instance = new SDJwtVcInstance({
    hasher: digest,
    hashAlg: 'sha-256',
    saltGenerator: generateSalt,
    signer: await ES256.getSigner(issuer.privateKey),
    signAlg: 'ES256',
    kbSigner: await ES256.getSigner(holder.privateKey),
    kbSignAlg: 'ES256',
  });
  const payload = {
    ...input.claims,
    iss: input.iss,
    iat: input.iat,
    exp: input.exp,
    vct: input.vct,
    cnf: { jwk: holder.publicJwk },
  };
  if (input.nbf !== undefined) payload.nbf = input.nbf;
  if (input.status) payload.status = input.status;
  const credential = await instance.issue(payload, input.frame, { header: { kid } });
  let presentation = await instance.present(credential, input.present_frame, {
    kb: { payload: { iat: input.kb_iat ?? input.iat, aud: input.aud, nonce: input.nonce } },
  });
  if (input.tamper) presentation = await tamperOneByte(presentation, holder, input);
  return { credential, presentation, jwks: { keys: [{ ...issuer.publicJwk, kid, alg: 'ES256', use: 'sig' }] } };
}

// A dishonest holder: one character of the first disclosure's value changed, and a key binding made again,
// valid, over the changed presentation (the holder has its key): only the disclosure check can refuse it.
async function tamperOneByte(presentation, holder, input) {
  const parts = presentation.split('~');
  const [salt, name, value] = JSON.parse(base64urlDecode(parts[1]));
  const changed = typeof value === 'string' ? value.slice(0, -1) + (value.endsWith('a') ? 'b' : 'a') : !value;
  parts[1] = base64urlEncode(JSON.stringify([salt, name, changed]));
  const presented = parts.slice(0, -1).join('~') + '~';
  const sdHash = uint8ArrayToBase64Url(digest(presented, 'sha-256'));
  const header = base64urlEncode(JSON.stringify({ alg: 'ES256', typ: 'kb+jwt' }));
  const body = base64urlEncode(
    JSON.stringify({ iat: input.kb_iat ?? input.iat, aud: input.aud, nonce: input.nonce, sd_hash: sdHash }),
  );
  const signature = await (await ES256.getSigner(holder.privateKey))(`${header}.${body}`);
  return `${presented}${header}.${body}.${signature}`;
}

async function status(input) {
  const jwt = Jwt.fromEncode(input.token);
  await jwt.verify(jwksVerifier(input.jwks), { currentDate: input.now, skewSeconds: 60 });
  const list = getListFromStatusListJWT(input.token);
  return {
    header: jwt.header,
    sub: jwt.payload.sub,
    bits: list.getBitsPerStatus(),
    statuses: Object.fromEntries(input.indexes.map((index) => [index, list.getStatus(index)])),
  };
}

async function answer(command, input) {
  try {
    return { ok: true, ...(await command(input)) };
  } catch (error) {
    return { ok: false, error: String(error?.message ?? error) };
  }
}

async function batch(requests) {
  const answers = [];
  for (const { command, input } of requests) answers.push(await answer(commands[command], input));
  return { answers };
}

const commands = { verify, issue, status, batch };
const command = commands[process.argv[2]];
if (!command) {
  process.stderr.write(`usage: node sdjwt.mjs ${Object.keys(commands).join('|')} < input.json\n`);
  process.exit(2);
}
process.stdout.write(JSON.stringify(await answer(command, await readStdin())));
