// Writes a stack's OpenMetrics file where node_exporter's textfile collector can read it.
import * as fs from "fs";
import * as path from "path";

/**
 * Writes `text` to `file` through a temporary file and a rename: the textfile collector reads
 * the directory whenever it is scraped, and must never see a file half written.
 * Returns why it could not, instead of throwing: a lab that measured must not fail for its file.
 */
export function writeMetricsFile(file: string, text: string): string | undefined {
    const tmp = `${file}.${process.pid}.tmp`;
    try {
        fs.mkdirSync(path.dirname(file), { recursive: true });
        fs.writeFileSync(tmp, text);
        fs.renameSync(tmp, file);
        return undefined;
    } catch (e) {
        try { fs.rmSync(tmp, { force: true }); } catch { /* its directory is what failed: nothing was left */ }
        return `${file}: ${(e as Error).message}`;
    }
}
