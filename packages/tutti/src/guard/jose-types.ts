// jose is ESM-only. The CommonJS build (and a CommonJS consumer's compiler reading its
// declarations) may refer to its types only with resolution-mode "import": written here once,
// as import types (Biome does not parse that attribute on an import declaration).
export type CryptoKey = import("jose", { with: { "resolution-mode": "import" }}).CryptoKey;
export type JWK = import("jose", { with: { "resolution-mode": "import" }}).JWK;
export type JWSAlgorithm = import("jose", { with: { "resolution-mode": "import" }}).JWSAlgorithm;
export type JWTPayload = import("jose", { with: { "resolution-mode": "import" }}).JWTPayload;
export type JWTVerifyGetKey = import("jose", { with: { "resolution-mode": "import" }}).JWTVerifyGetKey;
export type JWTVerifyOptions = import("jose", { with: { "resolution-mode": "import" }}).JWTVerifyOptions;
export type KeyObject = import("jose", { with: { "resolution-mode": "import" }}).KeyObject;
export type RemoteJWKSetOptions = import("jose", { with: { "resolution-mode": "import" }}).RemoteJWKSetOptions;
/** jose's module, for `typeof`: its code is loaded by import() where it is used. */
export type Jose = typeof import("jose", { with: { "resolution-mode": "import" }});
