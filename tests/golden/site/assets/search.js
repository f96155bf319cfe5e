// Search box of the index page: a client-side search over the static, sharded index that
// sitegen/render/search_index.py writes under search/. Nothing loads until the visitor searches;
// a query then fetches search/meta.json once, the term shards of its words (a few more for a
// prefix), the posting chunks of a very common word, and one record file per result shown.
// No third-party code.

const MAX_SHOWN = 20;
const MIN_PREFIX = 3; // a word this long also matches the terms it begins
const PREFIX_SHARDS = 4; // at most this many shards are read for one prefix
const PREFIX_TERMS = 64; // and at most this many of their terms are matched

const section = document.querySelector('section.search[data-search]');

// 32-bit FNV-1a of the UTF-8 bytes: the twin of search_index.term_hash.
export function termHash(term) {
  let hash = 0x811c9dc5;
  for (const byte of new TextEncoder().encode(term)) {
    hash = Math.imul(hash ^ byte, 0x01000193) >>> 0;
  }
  return hash >>> 0;
}

// The twin of search_index.words: lower case, accents removed, letters and digits.
export function words(text, meta) {
  const plain = text.normalize('NFKD').replace(/\p{M}/gu, '').toLowerCase();
  const stop = new Set(meta.stop_words);
  return (plain.match(/[\p{L}\p{N}]+/gu) || []).filter(
    (w) => w.length >= meta.min_word_length && !stop.has(w));
}

// Compare two strings by code point, as Python does (JavaScript's < compares UTF-16 units).
export function compareTerms(a, b) {
  const x = Array.from(a);
  const y = Array.from(b);
  for (let i = 0; i < Math.min(x.length, y.length); i += 1) {
    const d = x[i].codePointAt(0) - y[i].codePointAt(0);
    if (d !== 0) return d;
  }
  return x.length - y.length;
}

// The shard a term is in: the last whose first term is at or before it (search_index.shard_of).
export function shardOf(term, shards) {
  let low = 0;
  let high = shards.length;
  while (low < high) {
    const mid = (low + high) >> 1;
    if (compareTerms(shards[mid][0], term) <= 0) low = mid + 1;
    else high = mid;
  }
  return low - 1;
}

const DOI = /^(?:https?:\/\/(?:dx\.)?doi\.org\/|doi:\s*)?(10\.\d{4,9}\/\S*)$/i;
const ARXIV = /^(?:arxiv:\s*|https?:\/\/arxiv\.org\/abs\/)?(\d{4}\.\d{4,5}(?:v\d+)?|[a-z-]+(?:\.[a-z]{2})?\/\d{7}(?:v\d+)?)$/i;
const ARXIV_PART = /^(?:arxiv:\s*)?(\d{4}\.\d{0,5})$/i;
const PITH = /^(pith:)?(?:\d{4}:)?([a-z2-7]{4,26})$/i;

// What a query asks for: an identifier (exact, or a prefix of identifiers), a set of words, or
// both (a bare run of base32 letters may be a short Pith number or a word).
export function parseQuery(query, meta) {
  const q = query.trim();
  let match = q.match(ARXIV);
  if (match) return { id: { term: 'arxiv:' + match[1].toLowerCase().replace(/v\d+$/, ''), exact: true }, words: [] };
  match = q.match(ARXIV_PART);
  if (match) return { id: { term: 'arxiv:' + match[1], exact: false }, words: [] };
  match = q.match(DOI);
  if (match) {
    const doi = match[1].toLowerCase();
    return { id: { term: 'doi:' + doi, exact: false, full: 'doi:' + doi }, words: [] };
  }
  match = q.match(PITH);
  if (match) {
    const prefix = match[2].toUpperCase();
    const short = prefix.length >= meta.id_prefix_length;
    return {
      id: {
        term: 'pith:' + prefix.slice(0, meta.id_prefix_length).toLowerCase(),
        exact: short,
        suffix: prefix,
      },
      words: match[1] ? [] : words(q, meta),
    };
  }
  return { id: null, words: words(q, meta) };
}

class Index {
  constructor(base) {
    this.base = base;
    this.files = new Map();
  }

  // Each file is fetched at most once per page view.
  load(path) {
    if (!this.files.has(path)) {
      const url = new URL(path, this.base);
      this.files.set(path, fetch(url).then((response) => {
        if (!response.ok) throw new Error(`${path}: HTTP ${response.status}`);
        return response.json();
      }));
    }
    return this.files.get(path);
  }

  meta() {
    return this.load('meta.json');
  }

  async shard(number) {
    const meta = await this.meta();
    return this.load(`terms/${meta.shards[number][1]}.json`);
  }

  // [title entries, other entries] of one term, newest first ([[], []] when no paper has it).
  async lists(term) {
    const meta = await this.meta();
    const shard = await this.shard(shardOf(term, meta.shards));
    if (!Object.hasOwn(shard, term)) return [[], []];
    const found = shard[term];
    if (Array.isArray(found)) return found;
    // a common term: its lists in chunks under common/<name>/, each named by its last entry
    const chunks = async (kind, names) => (await Promise.all(
      names.map((name) => this.load(`common/${found.common}/${kind}${name}.json`)))).flat();
    return Promise.all([chunks('t', found.title), chunks('o', found.other)]);
  }

  // The terms that begin with a prefix (itself included), and whether the caps cut them short.
  async completions(prefix) {
    const meta = await this.meta();
    const first = shardOf(prefix, meta.shards);
    let last = first;
    while (last + 1 < meta.shards.length && meta.shards[last + 1][0].startsWith(prefix)) last += 1;
    const cut = last - first + 1 > PREFIX_SHARDS;
    const shards = await Promise.all(
      Array.from({ length: Math.min(last - first + 1, PREFIX_SHARDS) }, (_, i) => this.shard(first + i)));
    const terms = shards.flatMap((shard) => Object.keys(shard).filter((t) => t.startsWith(prefix)));
    terms.sort(compareTerms);
    return { terms: terms.slice(0, PREFIX_TERMS), cut: cut || terms.length > PREFIX_TERMS };
  }

  // The records an entry names: those of its record file whose suffix starts with its id.
  async records(entry) {
    const meta = await this.meta();
    const id = entry.slice(meta.date_length);
    const file = await this.load(`papers/${id.slice(0, meta.record_prefix_length)}.json`);
    return file
      .filter((r) => typeof r[0] === 'string' && r[0].startsWith(id))
      .map(([suffix, pithNumber, title, authors, moreAuthors, sourceId, doi, verdict, submitted]) =>
        ({ suffix, pithNumber, title, authors, moreAuthors, sourceId, doi, verdict, submitted }));
  }
}

// Rank of a match, best first: exact identifier, identifier prefix, every word exactly in the
// title, every word in the title (some by prefix), the rest (a word found only in authors).
const EXACT_ID = 0;
const ID_PREFIX = 1;
const TITLE_EXACT = 2;
const TITLE_PREFIX = 3;
const ELSEWHERE = 4;

// entry -> best way each word matched it (0 title exactly, 1 title by prefix, 2 other exactly,
// 3 other by prefix) for one word.
async function wordMatches(index, word, state) {
  const best = new Map();
  const note = (entries, how) => {
    for (const e of entries) if (!best.has(e) || best.get(e) > how) best.set(e, how);
  };
  const [title, other] = await index.lists(word);
  note(title, 0);
  note(other, 2);
  if (Array.from(word).length >= MIN_PREFIX) {
    const { terms, cut } = await index.completions(word);
    if (cut) state.cut = true;
    for (const term of terms.filter((t) => t !== word)) {
      const [t, o] = await index.lists(term);
      note(t, 1);
      note(o, 3);
    }
  }
  return best;
}

// Matching entries with their rank, best first then newest first, and a description of the query.
async function run(index, query) {
  const meta = await index.meta();
  const parsed = parseQuery(query, meta);
  const state = { cut: false };
  const ranked = new Map();
  const rank = (e, r) => {
    if (!ranked.has(e) || ranked.get(e) > r) ranked.set(e, r);
  };
  if (parsed.id) {
    const id = parsed.id;
    const exactTerm = id.full || id.term;
    let terms = [id.term];
    if (!id.exact) {
      const completed = await index.completions(id.term);
      terms = completed.terms;
      if (completed.cut) state.cut = true;
    }
    for (const term of terms) {
      for (const e of (await index.lists(term))[0]) {
        if (id.suffix && id.exact) {
          const records = await index.records(e);
          if (!records.some((r) => r.suffix.startsWith(id.suffix))) continue;
        }
        rank(e, term === exactTerm && (id.exact || id.full) ? EXACT_ID : ID_PREFIX);
      }
    }
  }
  const unique = [...new Set(parsed.words)];
  if (unique.length) {
    const perWord = await Promise.all(unique.map((w) => wordMatches(index, w, state)));
    perWord.sort((a, b) => a.size - b.size);
    for (const [e, how] of perWord[0]) {
      const ways = [how];
      if (!perWord.slice(1).every((m) => m.has(e) && ways.push(m.get(e)))) continue;
      rank(e, ways.every((w) => w === 0) ? TITLE_EXACT : ways.every((w) => w < 2) ? TITLE_PREFIX : ELSEWHERE);
    }
  }
  const entries = [...ranked.keys()].sort((a, b) => ranked.get(a) - ranked.get(b) || (a < b ? 1 : a > b ? -1 : 0));
  return { entries, parsed, cut: state.cut };
}

const VERDICT_WORDS = {
  verified: 'Verified', failed: 'Failed', unverifiable: 'Unverifiable', rejected: 'Rejected',
};

// The one marker for values stated by the registry, as on the index pages (see their legend).
function statedMark() {
  const mark = document.createElement('span');
  mark.className = 'stated-mark';
  mark.title = 'stated by the registry, not verified here';
  mark.textContent = '†';
  return mark;
}

function resultItem(record, root) {
  const item = document.createElement('li');
  const link = document.createElement('a');
  link.href = `${root}pith/${encodeURIComponent(record.suffix)}/`;
  link.textContent = record.title;
  const known = Object.hasOwn(VERDICT_WORDS, record.verdict);
  const verdict = document.createElement('span');
  verdict.className = `verdict verdict-${known ? record.verdict : 'unknown'}`;
  verdict.textContent = known ? VERDICT_WORDS[record.verdict] : String(record.verdict);
  const authors = document.createElement('span');
  authors.className = 'authors';
  authors.textContent = record.authors.join(', ') +
    (record.moreAuthors ? ` and ${record.moreAuthors} more` : '');
  if (record.authors.length) authors.append(' ', statedMark());
  const ids = document.createElement('span');
  ids.className = 'muted';
  ids.textContent = [`pith:${record.suffix.slice(0, 8)}`, record.sourceId, record.doi, record.submitted]
    .filter(Boolean).join(' · ');
  item.append(verdict, ' ', link, document.createElement('br'), authors,
    document.createElement('br'), ids);
  return item;
}

function start() {
  if (!section) return;
  const form = section.querySelector('form');
  const input = section.querySelector('input[type="search"]');
  const status = section.querySelector('[role="status"]');
  const results = section.querySelector('ol');
  const root = section.dataset.root;
  const index = new Index(new URL(section.dataset.search, document.baseURI));
  let latest = 0;
  let timer = 0;

  async function search() {
    const query = input.value;
    const ticket = ++latest;
    if (!query.trim()) {
      status.textContent = '';
      results.replaceChildren();
      return;
    }
    status.textContent = 'Searching…';
    try {
      const { entries, parsed, cut } = await run(index, query);
      const found = (await Promise.all(entries.slice(0, MAX_SHOWN).map((e) => index.records(e)))).flat();
      const records = parsed.id && parsed.id.suffix && parsed.id.exact && !parsed.words.length
        ? found.filter((r) => r.suffix.startsWith(parsed.id.suffix))
        : found;
      if (ticket !== latest) return;
      results.replaceChildren(...records.slice(0, MAX_SHOWN).map((r) => resultItem(r, root)));
      const count = Math.max(entries.length, records.length);
      const more = cut ? ' What you typed begins too many terms: type more to see every match.' : '';
      if (!parsed.id && parsed.words.length === 0) {
        status.textContent = 'Type a word of two letters or more, an arXiv id, a DOI or a Pith number.';
      } else if (count === 0) {
        status.textContent = `No paper matches “${query.trim()}”.${more}`;
      } else {
        const shown = count > MAX_SHOWN ? `; the best ${MAX_SHOWN} are shown (add words to narrow it down)` : '';
        status.textContent = `${count} ${count === 1 ? 'paper matches' : 'papers match'} “${query.trim()}”${shown}.${more}`;
      }
    } catch (error) {
      if (ticket !== latest) return;
      status.textContent = `Search is unavailable: could not load the index (${error.message}).`;
    }
  }

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    clearTimeout(timer);
    search();
  });
  input.addEventListener('input', () => {
    clearTimeout(timer);
    timer = setTimeout(search, 200);
  });
  section.hidden = false;
}

start();
