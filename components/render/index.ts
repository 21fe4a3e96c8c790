// The renderers: libvirt XML (xml.ts), host scripts with their shared prelude
// (scripts.ts, scripts/*.sh), and the one quoter and escaper they use (text.ts).
export * from "./text";
export * from "./xml";
export * from "./scripts";
