// Writes a stack's OpenMetrics file where node_exporter's textfile collector can read it.
import * as fs from "fs";
import * as path from "path";
import { MetricsSource, metricsFileName, renderOpenMetrics } from "./openmetrics";

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

/**
 * What the program does with its legs once they are known: an update that has legs writes them
 * under `project`/metrics/; a preview (`dryRun`) measured nothing and writes nothing.
 * Returns the file written, or why none was.
 */
export function recordLegMetrics(project: string, src: MetricsSource, dryRun: boolean): { file?: string; problem?: string } {
    if (dryRun || src.legs.length === 0) { return {}; }
    const file = path.join(project, metricsFileName(src.stack));
    const problem = writeMetricsFile(file, renderOpenMetrics(src));
    return problem ? { problem } : { file };
}
