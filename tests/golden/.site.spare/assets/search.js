// Search box of the index page: a client-side search over the static, sharded index
// that sitegen/search.py writes under search/. Nothing loads until the visitor searches;
// a query then fetches search/meta.json once, one term shard per word (plus the posting
// file of a very common word) and the result records it shows. No third-party code.

const MAX_SHOWN = 20;

const section = document.querySelector('section.search[data-search]');

// 32-bit FNV-1a of the UTF-8 bytes: the twin of sitegen.search.term_hash.
export function termHash(term) {
  let hash = 0x811c9dc5;
  for (const byte of new TextEncoder().encode(term)) {
    hash = Math.imul(hash ^ byte, 0x01000193) >>> 0;
  }
  return hash >>> 0;
}

// The twin of sitegen.search.words: lower case, accents removed, letters and digits.
export function words(text, meta) {
  const plain = text.normalize('NFKD').replace(/\p{M}/gu, '').toLowerCase();
  const stop = new Set(meta.stop_words);
  return (plain.match(/[\p{L}\p{N}]+/gu) || []).filter(
    (w) => w.length >= meta.min_word_length && !stop.has(w));
}

const DOI = /^(?:https?:\/\/(?:dx\.)?doi\.org\/|doi:\s*)?(10\.\d{4,9}\/\S+)$/i;
const ARXIV = /^(?:arxiv:\s*|https?:\/\/arxiv\.org\/abs\/)?(\d{4}\.\d{4,5}(?:v\d+)?|[a-z-]+(?:\.[a-z]{2})?\/\d{7}(?:v\d+)?)$/i;
const PITH = /^(pith:)?(?:\d{4}:)?([a-z2-7]{8,26})$/i;

// What a query asks for: an identifier lookup, a set of words, or both
// (a bare run of base32 letters may be a short Pith number or a word).
export function parseQuery(query, meta) {
  const q = query.trim();
  let match = q.match(DOI);
  if (match) return { idTerm: 'doi:' + match[1].toLowerCase(), words: [] };
  match = q.match(ARXIV);
  if (match) return { idTerm: 'arxiv:' + match[1].toLowerCase().replace(/v\d+$/, ''), words: [] };
  match = q.match(PITH);
  if (match) {
    const prefix = match[2].toUpperCase();
    return {
      idTerm: 'pith:' + prefix.slice(0, meta.id_prefix_length).toLowerCase(),
      pithPrefix: prefix,
      words: match[1] ? [] : words(q, meta),
    };
  }
  return { idTerm: null, words: words(q, meta) };
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

  // Ascending paper numbers for one term (empty when no paper has it).
  async postings(term) {
    const meta = await this.meta();
    const shard = await this.load(`terms/${termHash(term) % meta.term_shards}.json`);
    let deltas = Object.hasOwn(shard, term) ? shard[term] : [];
    if (typeof deltas === 'number') deltas = await this.load(`common/${deltas}.json`);
    const numbers = [];
    let at = 0;
    for (const gap of deltas) numbers.push((at += gap));
    return numbers;
  }

  async record(number) {
    const meta = await this.meta();
    const shard = await this.load(`papers/${Math.floor(number / meta.paper_shard_size)}.json`);
    const [suffix, pithNumber, title, authors, moreAuthors, sourceId, doi, verdict, submitted] =
      shard[number % meta.paper_shard_size];
    return { suffix, pithNumber, title, authors, moreAuthors, sourceId, doi, verdict, submitted };
  }
}

function intersect(lists) {
  if (lists.length === 0) return [];
  lists.sort((a, b) => a.length - b.length);
  let result = lists[0];
  for (const other of lists.slice(1)) {
    const keep = new Set(other);
    result = result.filter((n) => keep.has(n));
  }
  return result;
}

// Paper numbers matching a query, ascending (newest first), and a description of it.
async function run(index, query) {
  const meta = await index.meta();
  const parsed = parseQuery(query, meta);
  const found = new Set();
  if (parsed.idTerm) {
    for (const number of await index.postings(parsed.idTerm)) {
      if (!parsed.pithPrefix || (await index.record(number)).suffix.startsWith(parsed.pithPrefix)) {
        found.add(number);
      }
    }
  }
  if (parsed.words.length) {
    const lists = await Promise.all([...new Set(parsed.words)].map((w) => index.postings(w)));
    for (const number of intersect(lists)) found.add(number);
  }
  return { numbers: [...found].sort((a, b) => a - b), parsed };
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
      const { numbers, parsed } = await run(index, query);
      const records = await Promise.all(numbers.slice(0, MAX_SHOWN).map((n) => index.record(n)));
      if (ticket !== latest) return;
      results.replaceChildren(...records.map((r) => resultItem(r, root)));
      if (!parsed.idTerm && parsed.words.length === 0) {
        status.textContent = 'Type a word of two letters or more, an arXiv id, a DOI or a Pith number.';
      } else if (numbers.length === 0) {
        status.textContent = `No paper matches “${query.trim()}”. Words match whole words only.`;
      } else {
        const shown = numbers.length > MAX_SHOWN ? `; the newest ${MAX_SHOWN} are shown (add words to narrow it down)` : '';
        status.textContent = `${numbers.length} ${numbers.length === 1 ? 'paper matches' : 'papers match'} “${query.trim()}”${shown}.`;
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
