// A small, safe Markdown renderer for previews: headings, paragraphs, lists, block quotes, fenced code,
// rules, and inline code, emphasis, strong and links (absolute http and https only). It builds DOM nodes;
// no text is ever parsed as HTML.
import { h } from '../dom.mjs';

/** @returns {Node[]} */
export function renderMarkdown(text) {
  const lines = text.replace(/\r\n?/g, '\n').split('\n');
  const out = [];
  let i = 0;
  while (i < lines.length) {
    const line = lines[i];
    const fence = /^(```|~~~)\s*([\w+-]*)\s*$/.exec(line);
    if (fence) {
      const code = [];
      for (i += 1; i < lines.length && !lines[i].startsWith(fence[1]); i += 1) code.push(lines[i]);
      i += 1;
      out.push(h('pre', { tabindex: 0 }, h('code', fence[2] ? { 'data-language': fence[2] } : {}, code.join('\n'))));
      continue;
    }
    const heading = /^(#{1,6})\s+(.*?)\s*#*\s*$/.exec(line);
    if (heading) {
      // Shifted below the page's own h1/h2 so the document outline stays sound.
      out.push(h(`h${Math.min(6, heading[1].length + 2)}`, {}, inline(heading[2])));
      i += 1;
      continue;
    }
    if (/^\s*([-*_])(\s*\1){2,}\s*$/.test(line)) {
      out.push(h('hr'));
      i += 1;
      continue;
    }
    if (/^\s*>/.test(line)) {
      const quoted = [];
      for (; i < lines.length && /^\s*>/.test(lines[i]); i += 1) quoted.push(lines[i].replace(/^\s*>\s?/, ''));
      out.push(h('blockquote', {}, renderMarkdown(quoted.join('\n'))));
      continue;
    }
    const item = /^\s*([-*+]|\d+[.)])\s+/.exec(line);
    if (item) {
      const ordered = /\d/.test(item[1]);
      const items = [];
      for (; i < lines.length; i += 1) {
        const match = /^\s*([-*+]|\d+[.)])\s+(.*)$/.exec(lines[i]);
        if (match) items.push(match[2]);
        else if (/^\s{2,}\S/.test(lines[i]) && items.length > 0) items[items.length - 1] += ` ${lines[i].trim()}`;
        else break;
      }
      out.push(h(ordered ? 'ol' : 'ul', {}, items.map((content) => h('li', {}, inline(content)))));
      continue;
    }
    if (line.trim() === '') {
      i += 1;
      continue;
    }
    const paragraph = [];
    for (; i < lines.length && lines[i].trim() !== '' && !/^(#{1,6}\s|```|~~~|\s*>|\s*([-*+]|\d+[.)])\s)/.test(lines[i]); i += 1) paragraph.push(lines[i].trim());
    out.push(h('p', {}, inline(paragraph.join(' '))));
  }
  return out;
}

const INLINE = /(`+)([\s\S]*?)\1|\*\*([^*]+)\*\*|__([^_]+)__|\*([^*\s][^*]*)\*|_([^_\s][^_]*)_|\[([^\]]+)\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g;

function inline(text) {
  const nodes = [];
  let at = 0;
  for (const match of text.matchAll(INLINE)) {
    if (match.index > at) nodes.push(text.slice(at, match.index));
    const [whole, , code, strong1, strong2, em1, em2, label, href] = match;
    if (code !== undefined) nodes.push(h('code', {}, code));
    else if (strong1 ?? strong2) nodes.push(h('strong', {}, inline(strong1 ?? strong2)));
    else if (em1 ?? em2) nodes.push(h('em', {}, inline(em1 ?? em2)));
    else if (label !== undefined) nodes.push(safeHref(href) ? h('a', { href, rel: 'noopener noreferrer nofollow', target: '_blank' }, inline(label)) : whole);
    at = match.index + whole.length;
  }
  if (at < text.length) nodes.push(text.slice(at));
  return nodes;
}

function safeHref(href) {
  try {
    const url = new URL(href);
    return url.protocol === 'http:' || url.protocol === 'https:';
  } catch {
    return false;
  }
}
