// The docs are README.md plus the guides in docs/, which link to each other by file and
// heading. Moving a section breaks such links silently on GitHub; this suite finds them:
// every relative link must name a file that exists and, with a #anchor, a heading of that
// file under GitHub's anchor rules.
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { ROOT } from "../support";

/** README's budget (issue 24): deep material goes to a guide in docs/. */
const README_MAX_LINES = 350;

/** GitHub's anchor for a heading: lowercase, punctuation dropped except '-' and '_', each space a '-'. */
function slug(heading: string): string {
    return heading
        .trim()
        .replace(/\[([^\]]*)\]\([^)]*\)/g, "$1")
        .toLowerCase()
        .replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, "")
        .replace(/ /g, "-");
}

/** A markdown text without its fenced code blocks (a `# comment` there is no heading). */
function proseLines(text: string): string[] {
    let fenced = false;
    return text.split("\n").filter((line) => {
        if (/^\s*```/.test(line)) { fenced = !fenced; return false; }
        return !fenced;
    });
}

/** Every anchor a file's headings give, a repeated heading's with GitHub's -1, -2 suffix. */
function anchors(text: string): Set<string> {
    const seen = new Map<string, number>();
    const out = new Set<string>();
    for (const line of proseLines(text)) {
        const m = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
        if (!m) continue;
        const base = slug(m[1]);
        const n = seen.get(base) ?? 0;
        seen.set(base, n + 1);
        out.add(n === 0 ? base : `${base}-${n}`);
    }
    return out;
}

/** The targets of a text's links and images, outside code; absolute URLs left out. */
function relativeLinks(text: string): string[] {
    const prose = proseLines(text).join("\n").replace(/``[^`]*``|`[^`\n]*`/g, "");
    const out: string[] = [];
    for (const m of prose.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) {
        if (!/^[a-z][a-z0-9+.-]*:/i.test(m[1])) out.push(m[1]);
    }
    return out;
}

const docFiles = ["README.md", ...fs.readdirSync(path.join(ROOT, "docs"))
    .filter((f) => f.endsWith(".md")).sort().map((f) => path.join("docs", f))];

describe("docs: links between README and the guides", () => {
    it("the slug follows GitHub's rules", () => {
        assert.strictEqual(slug("Quick start (Debian or Ubuntu, as root)"), "quick-start-debian-or-ubuntu-as-root");
        assert.strictEqual(slug("A guest's CPU, checked before anything moves"), "a-guests-cpu-checked-before-anything-moves");
        assert.strictEqual(slug("Side by side: `npm run bench -- ab <git-ref>`"), "side-by-side-npm-run-bench----ab-git-ref");
        assert.strictEqual(slug("The `legs` output"), "the-legs-output");
        assert.strictEqual(slug("snake_case and ÷ signs"), "snake_case-and--signs");
        assert.deepStrictEqual([...anchors("# A\n```\n# not a heading\n```\n## A\n")], ["a", "a-1"]);
    });

    for (const file of docFiles) {
        it(`${file}: every relative link names a file that exists, and a heading there`, () => {
            const text = fs.readFileSync(path.join(ROOT, file), "utf8");
            const bad: string[] = [];
            for (const link of relativeLinks(text)) {
                const [target, anchor] = link.split("#", 2);
                const resolved = target === "" ? path.join(ROOT, file) : path.resolve(ROOT, path.dirname(file), decodeURI(target));
                if (!resolved.startsWith(ROOT + path.sep) || !fs.existsSync(resolved)) {
                    bad.push(`${link}: no file ${path.relative(ROOT, resolved)}`);
                    continue;
                }
                if (anchor === undefined) continue;
                if (!resolved.endsWith(".md")) { bad.push(`${link}: an anchor into a file that is not markdown`); continue; }
                if (!anchors(fs.readFileSync(resolved, "utf8")).has(anchor)) {
                    bad.push(`${link}: ${path.relative(ROOT, resolved)} has no heading whose anchor is #${anchor}`);
                }
            }
            assert.deepStrictEqual(bad, [], `${file} has broken links:\n  ${bad.join("\n  ")}`);
        });
    }

    it("README links to every guide in docs/", () => {
        const linked = new Set(relativeLinks(fs.readFileSync(path.join(ROOT, "README.md"), "utf8"))
            .map((l) => path.normalize(l.split("#")[0])));
        const missing = docFiles.filter((f) => f !== "README.md" && !linked.has(f));
        assert.deepStrictEqual(missing, [], "guides README does not link to (add them to 'Where to go next')");
    });

    it(`README stays within ${README_MAX_LINES} lines`, () => {
        const lines = fs.readFileSync(path.join(ROOT, "README.md"), "utf8").split("\n").length - 1;
        assert.ok(lines <= README_MAX_LINES,
            `README.md has ${lines} lines; move detail into a guide in docs/ and link it (at most ${README_MAX_LINES})`);
    });
});
