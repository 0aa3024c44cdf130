// node-oidc-provider 9 as the benchmark's peer: client credentials, RS256 JWT access tokens
// (a resource server with accessTokenFormat 'jwt'), node:cluster with WORKERS workers, loopback.
// Started by bench/peer.py with NODE_PATH pointing at a folder where `npm install oidc-provider@9`
// ran; the signing key is generated here at start-up and never written to disk.
import cluster from 'node:cluster';
import { generateKeyPairSync } from 'node:crypto';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import { join } from 'node:path';

const PORT = Number(process.env.PORT);
const WORKERS = Number(process.env.WORKERS || 2);
const RESOURCE = 'https://api.bench.test';

if (cluster.isPrimary) {
  // One key for every worker, so tokens verify against one JWKS whichever worker signed them.
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = { ...privateKey.export({ format: 'jwk' }), kid: 'bench', use: 'sig', alg: 'RS256' };
  for (let i = 0; i < WORKERS; i += 1) cluster.fork({ BENCH_JWK: JSON.stringify(jwk) });
  cluster.on('exit', (worker, code) => {
    if (code !== 0) process.exit(1); // a crashed worker fails the run rather than skewing it
  });
  process.on('SIGTERM', () => {
    for (const worker of Object.values(cluster.workers)) worker.kill();
    process.exit(0);
  });
} else {
  // NODE_PATH does not apply to ES module imports: resolve through a require rooted there.
  const require = createRequire(join(process.env.OIDC_MODULES, 'noop.js'));
  const { default: Provider, errors } = await import(require.resolve('oidc-provider'));
  const provider = new Provider(`http://127.0.0.1:${PORT}`, {
    clients: [
      {
        client_id: process.env.CLIENT_ID,
        client_secret: process.env.CLIENT_SECRET,
        token_endpoint_auth_method: 'client_secret_basic',
        grant_types: ['client_credentials'],
        response_types: [],
        redirect_uris: [],
        scope: 'bench:read',
      },
    ],
    jwks: { keys: [JSON.parse(process.env.BENCH_JWK)] },
    scopes: ['bench:read'],
    ttl: { ClientCredentials: 3600 },
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      resourceIndicators: {
        enabled: true,
        // RFC 8707: the client need not name the resource; the one API is the default.
        defaultResource: () => RESOURCE,
        getResourceServerInfo: (ctx, indicator) => {
          if (indicator !== RESOURCE) throw new errors.InvalidTarget();
          return {
            scope: 'bench:read',
            accessTokenTTL: 3600,
            accessTokenFormat: 'jwt',
            jwt: { sign: { alg: 'RS256' } },
          };
        },
      },
    },
  });
  createServer(provider.callback()).listen(PORT, '127.0.0.1');
}
