// miglab's public API, in the order of its pipeline: the config and plan model, the
// renderers (libvirt XML, host scripts), the component resources, and the reports.
export * from "./model/config";
export * from "./model/kernel";
export * from "./model/rules";
export * from "./model/plan";
export * from "./model/drain";
export * from "./render/specs";
export { cidrOf, fnv1a, macFor, uuidFor } from "./model/net";
export * from "./render";
export * from "./resources/connection";
export * from "./resources/domain";
export * from "./resources/drain";
export * from "./resources/preflight";
export * from "./resources/exit";
export * from "./resources/guestImage";
export * from "./resources/host";
export * from "./resources/lab";
export * from "./resources/localSite";
export * from "./resources/migration";
export * from "./resources/migrationTls";
export * from "./resources/natNetwork";
export * from "./resources/nfsServer";
export * from "./resources/ovsBridge";
export * from "./resources/sshSite";
export * from "./resources/storagePool";
export * from "./reports/metrics";
export * from "./reports/drain";
export * from "./reports/timeline";
