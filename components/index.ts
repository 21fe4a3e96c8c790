// miglab's public API: the components, the config parser and the pure renderers/parsers.
export * from "./config";
export * from "./domain";
export * from "./guestImage";
export * from "./host";
export * from "./lab";
export * from "./localSite";
export * from "./metrics";
export * from "./migration";
export * from "./natNetwork";
export * from "./nfsServer";
export * from "./ovsBridge";
export * from "./plan";
export * from "./render";
export * from "./storagePool";
