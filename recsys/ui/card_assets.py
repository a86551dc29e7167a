"""The browser side of the card grid element: its CSS and JS (Streamlit components v2).

Trusted code, no data in it: every title, name and reason arrives as JSON in ``data`` and is
put on the page with ``textContent`` (never ``innerHTML``), so ``<b>x</b>`` or
``[Verify](http://x)`` in a title shows as those characters.

What the JS does on each render (the element's data changed: a fragment run re-sent it):

- keeps one ``<ul>`` of cards (poster or a genre-coloured placeholder, title, year / genres /
  IMDb line, reason, the user's rating) with one native ``<button>`` per action, so Tab / Enter
  / Space work and each button has a screen-reader name ("Like: Jaws");
- updates it *keyed* by tconst: a card whose data did not change keeps its node; only new or
  changed cards are built, then the nodes are put in the new order. It used to rebuild all 40
  onboarding cards (``replaceChildren``) on every render and again for the optimistic change,
  then put focus back, and ``focus()`` made the browser lay out the 40 new cards at once: 34 ms
  of main thread per pick in a CPU profile (about 3-5 ms now). A pick now rebuilds one card;
  the run that follows changes no node;
- a click sends one trigger ``click = {action, value, tconst, position, n}`` first, then at once
  removes the card (rate, hide) or flips its pick button (pick): *optimistic*, before the
  server answers. ``n`` increases per click; the server echoes the last one it handled as
  ``data.done``, so a render that arrives before a later click was handled keeps that card
  removed (no flicker back), and a click the server refused (its card is still in the data once
  ``done`` has caught up) shows the card again;
- keeps keyboard focus on the same button position after the card it was on leaves (and on the
  picked card's new button), calling ``focus()`` only when that is not already the focus.

Class names on cards and buttons are Streamlit's ``st-key-<key>`` classes of the widgets they
replace (``card-feed-movie-<tconst>``, ``rate-feed-movie-<tconst>-1`` ...), so page-level
selectors (tests, the load testers) find the same things as before.
"""

from __future__ import annotations

CSS = """
.cbg { container-type: inline-size; }
.cbg-list { list-style: none; margin: 0; padding: 0; display: grid; gap: 1rem;
  grid-template-columns: repeat(var(--cbg-cols, 4), minmax(0, 1fr)); }
@container (max-width: 640px) { .cbg-list { grid-template-columns: minmax(0, 1fr); } }
.cbg-card { border: 1px solid var(--st-border-color, rgba(250, 250, 250, 0.2));
  border-radius: var(--st-base-radius, 0.5rem); padding: 1rem; display: flex; flex-direction: column;
  gap: 0.5rem; min-width: 0; container-type: inline-size; }
.cbg-card[data-picked="1"] { border-color: var(--st-primary-color, #E4572E); }
.cbg-body { display: flex; gap: 0.7rem; align-items: flex-start; min-height: 132px; }
.cbg-art { flex: 0 0 88px; width: 88px; height: 132px; border-radius: 6px; overflow: hidden; }
.cbg-poster { width: 88px; height: 132px; object-fit: cover; display: block; }
.cbg-ph { width: 88px; height: 132px; box-sizing: border-box; padding: 6px; display: flex;
  flex-direction: column; justify-content: space-between; color: #fff; font-size: 0.72rem; line-height: 1.2; }
.cbg-ph-kind { opacity: 0.8; text-transform: uppercase; letter-spacing: 0.04em; font-size: 0.62rem; }
.cbg-ph-title { font-weight: 700; font-size: 0.8rem; overflow: hidden; display: -webkit-box;
  -webkit-line-clamp: 5; -webkit-box-orient: vertical; overflow-wrap: anywhere; }
.cbg-ph-year { opacity: 0.85; }
.cbg-text { min-width: 0; flex: 1 1 auto; font-size: 0.82rem; line-height: 1.3; }
.cbg-title { display: -webkit-box; -webkit-line-clamp: 2; -webkit-box-orient: vertical; overflow: hidden;
  font-size: 0.95rem; margin: 0 0 0.2rem 0; font-weight: 700; overflow-wrap: anywhere; }
.cbg-meta { opacity: 0.75; overflow-wrap: anywhere; }
.cbg-reason { margin-top: 0.25rem; font-style: italic; display: -webkit-box; -webkit-line-clamp: 2;
  -webkit-box-orient: vertical; overflow: hidden; overflow-wrap: anywhere; }
.cbg-mine { margin-top: 0.25rem; font-weight: 600; }
.cbg-buttons { display: flex; flex-wrap: wrap; gap: 0.25rem 0.3rem; margin-top: auto; }
.cbg-hold { display: inline-flex; }
.cbg-btn { display: inline-flex; align-items: center; gap: 0.3rem; min-height: 1.9rem;
  padding: 0.1rem 0.45rem; font: inherit; font-size: 0.8rem; cursor: pointer;
  color: var(--st-text-color, inherit); background: var(--st-background-color, transparent);
  border: 1px solid var(--st-border-color, rgba(250, 250, 250, 0.2)); border-radius: var(--st-button-radius, 0.5rem); }
.cbg-btn:hover { border-color: var(--st-primary-color, #E4572E); color: var(--st-primary-color, #E4572E); }
.cbg-btn:focus-visible { outline: 2px solid var(--st-primary-color, #E4572E); outline-offset: 1px; }
.cbg-btn[data-primary="1"] { background: var(--st-primary-color, #E4572E); border-color: var(--st-primary-color, #E4572E);
  color: #fff; }
.cbg-btn[data-tertiary="1"] { border-color: transparent; background: transparent; }
.cbg-icon { font-family: "Material Symbols Rounded"; font-size: 1rem; line-height: 1; font-weight: 400;
  font-style: normal; letter-spacing: normal; text-transform: none; white-space: nowrap;
  font-feature-settings: "liga"; -webkit-font-smoothing: antialiased; }
/* narrow cards (four on a laptop): icons only; the label stays for screen readers and as the
   tooltip, so Like / Dislike / Superlike and the rest fit on one row */
@container (max-width: 330px) {
  .cbg-buttons[data-compact="1"] { flex-wrap: nowrap; justify-content: space-between; }
  .cbg-buttons[data-compact="1"] .cbg-btn { padding: 0.1rem 0.5rem; }
  .cbg-buttons[data-compact="1"] .cbg-btn[data-icon="1"] .cbg-label { position: absolute; width: 1px; height: 1px; overflow: hidden;
    clip: rect(0 0 0 0); white-space: nowrap; }
}
"""

JS = """
const ROOTS = new WeakMap();

function el(tag, cls, text) {
  const node = document.createElement(tag);
  if (cls) node.className = cls;
  if (text !== undefined && text !== null) node.textContent = String(text);
  return node;
}

function art(card) {
  const box = el('div', 'cbg-art');
  const url = typeof card.poster === 'string' ? card.poster : '';
  if (url.startsWith('https://') || url.startsWith('http://')) {
    const img = el('img', 'cbg-poster');
    img.alt = '';
    img.loading = 'lazy';
    img.src = url;
    box.appendChild(img);
  } else {
    const ph = el('div', 'cbg-ph');
    const hue = Number.isFinite(card.hue) ? card.hue : 215;
    ph.style.background = `linear-gradient(160deg, hsl(${hue} 55% 42%), hsl(${hue} 45% 20%))`;
    ph.append(el('span', 'cbg-ph-kind', card.kind_label), el('span', 'cbg-ph-title', card.title),
              el('span', 'cbg-ph-year', card.years));
    box.appendChild(ph);
  }
  return box;
}

function build(state, card, picked) {
  const item = el('li', 'cbg-card');
  if (card.cls) item.classList.add(card.cls);
  item.dataset.tconst = card.tconst;
  item.dataset.picked = picked ? '1' : '0';
  item.setAttribute('aria-label', card.title);
  const body = el('div', 'cbg-body');
  const text = el('div', 'cbg-text');
  const title = el('strong', 'cbg-title cb-title', card.title);
  title.title = card.title;
  text.appendChild(title);
  for (const line of card.meta || []) text.appendChild(el('div', 'cbg-meta cb-meta', line));
  if (card.reason) text.appendChild(el('div', 'cbg-reason cb-reason', card.reason));
  if (card.mine) text.appendChild(el('div', 'cbg-mine cb-mine', card.mine));
  body.append(art(card), text);
  const row = el('div', 'cbg-buttons');
  for (const spec of card.buttons || []) {
    // a pick button shows the state it asks for: picked cards offer "Picked (undo)"
    if (spec.action === 'pick' && (spec.value === 1) === picked) continue;
    const button = el('button', 'cbg-btn');
    button.type = 'button';
    if (spec.primary) button.dataset.primary = '1';
    if (spec.tertiary) button.dataset.tertiary = '1';
    button.dataset.action = spec.action;
    button.title = spec.help || spec.label;
    button.setAttribute('aria-label', `${spec.label}: ${card.title}`);
    if (spec.icon) {
      button.dataset.icon = '1';
      const icon = el('span', 'cbg-icon', spec.icon);
      icon.setAttribute('aria-hidden', 'true');
      button.appendChild(icon);
    }
    button.appendChild(el('span', 'cbg-label', spec.label));
    button.addEventListener('click', () => click(state, spec, card));
    // each button sits in a holder with the st-key class of the st.button it replaces
    const holder = el('div', 'cbg-hold');
    if (spec.key_cls) holder.classList.add(spec.key_cls);
    holder.appendChild(button);
    row.appendChild(holder);
  }
  row.dataset.compact = row.childElementCount > 2 ? '1' : '0';  // a lone pick keeps its label
  item.append(body, row);
  return item;
}

function render(state) {
  const { root, data } = state;
  const done = Number(data.done) || 0;
  for (const n of Array.from(state.pending.keys())) if (n <= done) state.pending.delete(n);
  const gone = new Set();
  const picks = new Map();
  for (const p of state.pending.values()) {
    if (p.action === 'pick') picks.set(p.tconst, p.value === 1);
    else gone.add(p.tconst);
  }
  if (!state.list || state.list.parentNode !== root) {
    state.list = el('ul', 'cbg-list');
    state.nodes = new Map();
    root.replaceChildren(state.list);
  }
  const list = state.list;
  const label = data.label || 'Titles';
  if (list.getAttribute('aria-label') !== label) list.setAttribute('aria-label', label);
  const cols = String(data.columns || 4);
  if (list.style.getPropertyValue('--cbg-cols') !== cols) list.style.setProperty('--cbg-cols', cols);
  const where = focusOf(state);
  // keyed: a card whose data did not change keeps its node (no rebuild, no new style or
  // layout for it); only new or changed cards are built, then the list is put in order
  const positions = new Map();
  const nodes = new Map();
  const wanted = [];
  (data.cards || []).forEach((card, index) => {
    if (positions.has(card.tconst)) return;
    positions.set(card.tconst, index);
    if (gone.has(card.tconst)) return;
    const picked = picks.has(card.tconst) ? picks.get(card.tconst) : !!card.picked;
    const sig = JSON.stringify(card) + (picked ? '|1' : '|0');
    const old = state.nodes.get(card.tconst);
    const entry = old && old.sig === sig ? old : { sig, node: build(state, card, picked) };
    nodes.set(card.tconst, entry);
    wanted.push(entry.node);
  });
  state.positions = positions;
  state.nodes = nodes;
  const keep = new Set(wanted);
  for (const child of Array.from(list.children)) if (!keep.has(child)) child.remove();
  let cursor = list.firstElementChild;
  for (const node of wanted) {
    if (cursor === node) cursor = cursor.nextElementSibling;
    else list.insertBefore(node, cursor);
  }
  if (where) restoreFocus(state, where);
}

function focusOf(state) {
  const active = document.activeElement;
  if (!active || !state.list.contains(active)) return null;
  const card = active.closest('.cbg-card');
  if (!card) return null;
  return {
    slot: Array.prototype.indexOf.call(state.list.children, card),
    button: Array.from(card.querySelectorAll('button')).indexOf(active),
  };
}

function restoreFocus(state, where) {
  // the same button of the card now in the same slot (the next card after a like); moved
  // only when it is not already there, since focus() makes the browser lay the page out
  const cards = state.list.children;
  if (!cards.length) return;
  const card = cards[Math.min(where.slot, cards.length - 1)];
  const buttons = card.querySelectorAll('button');
  const target = buttons[Math.min(where.button, buttons.length - 1)];
  if (target && target !== document.activeElement) target.focus({ preventScroll: true });
}

function click(state, spec, card) {
  const n = Math.max(Date.now(), state.last + 1);
  state.last = n;
  const value = spec.value === undefined ? null : spec.value;
  const position = state.positions.has(card.tconst) ? state.positions.get(card.tconst) : 0;
  if (spec.optimistic) state.pending.set(n, { action: spec.action, value, tconst: card.tconst });
  // the trigger leaves first; the optimistic change (the card leaves, or its pick flips) is
  // drawn right after, in the same task, so the server starts its run without waiting on it
  state.setTriggerValue('click', { action: spec.action, value, tconst: card.tconst, position, n });
  if (spec.optimistic) render(state);
}

export default function (component) {
  const { data, parentElement, setTriggerValue } = component;
  let state = ROOTS.get(parentElement);
  if (!state) {
    const root = el('div', 'cbg');
    parentElement.appendChild(root);
    state = { root, pending: new Map(), last: 0 };
    ROOTS.set(parentElement, state);
  }
  // the server sends the cards as JSON bytes (recsys.ui.card_element.cards)
  state.data = (data instanceof Uint8Array ? JSON.parse(new TextDecoder().decode(data)) : data) || {};
  state.setTriggerValue = setTriggerValue;
  if (!state.root.isConnected) parentElement.appendChild(state.root);
  render(state);
}
"""
