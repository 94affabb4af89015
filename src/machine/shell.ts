/**
 * Enough of the POSIX shell grammar to read how a script starts a program: simple commands with
 * their words (quotes removed, expansions left as written), separated by ; & && || | and newlines,
 * with comments, subshells and heredoc bodies recognised. Used to follow an agent's init script
 * through `sudo`, `su`, `env`, `sh -c` and exports, as the machine would run it.
 */

export interface Word {
  /** The word with quotes removed (expansions such as $HOME stay as written). */
  text: string;
  start: number;
  end: number;
  /** Offset in the source of each character of `text` (for mapping a position inside a quoted -c script). */
  map: number[];
}

export interface SimpleCommand {
  words: Word[];
  start: number;
  end: number;
  /** The command runs in the background (`&`). */
  background: boolean;
  /** Its output is piped into the next command (`a | b`). */
  pipe: boolean;
}

const SEPARATORS = new Set([";", "&", "|", "\n", "(", ")", "{", "}"]);

/** A word as the shell reads it back: bare when it is safe, else in single quotes. */
export function shellQuote(s: string): string {
  return /^[A-Za-z0-9_\/.=:,@%+-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

export function parseScript(src: string): SimpleCommand[] {
  const commands: SimpleCommand[] = [];
  let words: Word[] = [];
  let cmdStart = -1;
  const heredocs: string[] = [];
  const end = (at: number, background = false, pipe = false) => {
    if (words.length > 0) commands.push({ words, start: cmdStart, end: at, background, pipe });
    words = [];
    cmdStart = -1;
  };
  let i = 0;
  while (i < src.length) {
    const c = src[i];
    if (c === " " || c === "\t" || c === "\r") {
      i++;
      continue;
    }
    if (c === "\\" && src[i + 1] === "\n") {
      i += 2;
      continue;
    }
    if (c === "#" && (i === 0 || /\s|;/.test(src[i - 1]))) {
      while (i < src.length && src[i] !== "\n") i++;
      continue;
    }
    if (c === "\n") {
      end(i);
      i++;
      // Heredoc bodies start after the line that opened them.
      while (heredocs.length > 0) {
        const marker = heredocs.shift()!;
        const re = new RegExp(`^\\t*${marker.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}$`, "m");
        const m = re.exec(src.slice(i));
        i = m ? i + m.index + m[0].length : src.length;
      }
      continue;
    }
    if (SEPARATORS.has(c)) {
      const bg = c === "&" && src[i + 1] !== "&" && src[i - 1] !== ">" && src[i + 1] !== ">";
      end(i, bg, c === "|" && src[i + 1] !== "|");
      i += (c === "&" || c === "|") && src[i + 1] === c ? 2 : 1;
      continue;
    }
    // Redirections: skip the operator and its target word.
    const redir = /^(\d*)(>>|>&|<&|<<-?|<>|>\||>|<)/.exec(src.slice(i));
    if (redir && (redir[1] === "" || true) && !(c === "<" && src[i + 1] === "(")) {
      i += redir[0].length;
      while (src[i] === " " || src[i] === "\t") i++;
      const target = readWord(src, i);
      if (redir[2].startsWith("<<")) heredocs.push(target.word.text.replace(/^["']|["']$/g, ""));
      i = target.next;
      continue;
    }
    const { word, next } = readWord(src, i);
    if (cmdStart < 0) cmdStart = i;
    words.push(word);
    i = next;
  }
  end(src.length);
  return commands;
}

/** Reads one word at `i`: quotes removed, $(…), ${…} and `…` kept whole. */
function readWord(src: string, start: number): { word: Word; next: number } {
  let text = "";
  const map: number[] = [];
  let i = start;
  const add = (s: string, at: number) => {
    for (let k = 0; k < s.length; k++) {
      text += s[k];
      map.push(at + k);
    }
  };
  while (i < src.length) {
    const c = src[i];
    if (/[\s;&|()<>]/.test(c) && !(c === "(" && src[i - 1] === "$")) break;
    if (c === "'") {
      const close = src.indexOf("'", i + 1);
      const stop = close < 0 ? src.length : close;
      add(src.slice(i + 1, stop), i + 1);
      i = stop + 1;
    } else if (c === '"') {
      i++;
      while (i < src.length && src[i] !== '"') {
        if (src[i] === "\\" && '"\\$`\n'.includes(src[i + 1] ?? "")) {
          if (src[i + 1] !== "\n") add(src[i + 1], i + 1);
          i += 2;
        } else if (src[i] === "$" && src[i + 1] === "(") {
          const close = matching(src, i + 1, "(", ")");
          add(src.slice(i, close + 1), i);
          i = close + 1;
        } else {
          add(src[i], i);
          i++;
        }
      }
      i++;
    } else if (c === "\\") {
      if (i + 1 < src.length) add(src[i + 1], i + 1);
      i += 2;
    } else if (c === "$" && (src[i + 1] === "(" || src[i + 1] === "{")) {
      const close = matching(src, i + 1, src[i + 1], src[i + 1] === "(" ? ")" : "}");
      add(src.slice(i, close + 1), i);
      i = close + 1;
    } else if (c === "`") {
      const close = src.indexOf("`", i + 1);
      const stop = close < 0 ? src.length - 1 : close;
      add(src.slice(i, stop + 1), i);
      i = stop + 1;
    } else {
      add(c, i);
      i++;
    }
  }
  return { word: { text, start, end: i, map }, next: i };
}

function matching(src: string, open: number, o: string, c: string): number {
  let depth = 0;
  for (let i = open; i < src.length; i++) {
    if (src[i] === "\\") {
      i++;
      continue;
    }
    if (src[i] === "'" && o === "(") {
      const close = src.indexOf("'", i + 1);
      if (close > 0) i = close;
      continue;
    }
    if (src[i] === o) depth++;
    else if (src[i] === c && --depth === 0) return i;
  }
  return src.length - 1;
}

/** The assignment words at the start of a command (`VAR=x cmd`). */
export function leadingAssignments(words: Word[]): { assignments: Record<string, string>; rest: Word[] } {
  const assignments: Record<string, string> = {};
  let k = 0;
  for (; k < words.length && /^[A-Za-z_][A-Za-z0-9_]*=/.test(words[k].text); k++) {
    const eq = words[k].text.indexOf("=");
    assignments[words[k].text.slice(0, eq)] = words[k].text.slice(eq + 1);
  }
  return { assignments, rest: words.slice(k) };
}

/** How the shell quotes the text at an offset: what it would do with a `'`, `"` or `$` placed there. */
export type Quoting = "none" | "single" | "double" | "backquote" | "heredoc" | "quoted-heredoc" | "comment";

/** The quoting in effect at offset `p` of `src` (the outermost: a `-c '…'` string is "single"). */
export function quotingAt(src: string, p: number): Quoting {
  let state: Quoting = "none";
  const pending: { delim: string; quoted: boolean; strip: boolean }[] = [];
  let i = 0;
  while (i < p && i < src.length) {
    const c = src[i];
    if (state === "single") {
      if (c === "'") state = "none";
      i++;
    } else if (state === "double" || state === "backquote") {
      if (c === "\\") i += 2;
      else {
        if ((state === "double" && c === '"') || (state === "backquote" && c === "`")) state = "none";
        i++;
      }
    } else if (c === "\\") i += 2;
    else if (c === "'") {
      state = "single";
      i++;
    } else if (c === '"') {
      state = "double";
      i++;
    } else if (c === "`") {
      state = "backquote";
      i++;
    } else if (c === "#" && (i === 0 || /[\s;&|(]/.test(src[i - 1]))) {
      const nl = src.indexOf("\n", i);
      if (nl < 0 || nl >= p) return "comment";
      i = nl;
    } else if (c === "<" && src[i + 1] === "<" && src[i + 2] !== "<") {
      const m = /^<<(-?)\s*(["']?)([A-Za-z_][A-Za-z0-9_]*)\2/.exec(src.slice(i));
      if (m) {
        pending.push({ delim: m[3], quoted: m[2] !== "", strip: m[1] === "-" });
        i += m[0].length;
      } else i += 2;
    } else if (c === "\n" && pending.length > 0) {
      i++;
      while (pending.length > 0) {
        const h = pending.shift()!;
        const re = new RegExp(`^${h.strip ? "\\t*" : ""}${h.delim}[ \\t]*$`, "m");
        const m = re.exec(src.slice(i));
        const end = m ? i + m.index : src.length;
        if (p < end) return h.quoted ? "quoted-heredoc" : "heredoc";
        i = m ? end + m[0].length : src.length;
      }
    } else i++;
  }
  return state;
}
