// Small inline icons beside a place or a calendar link. Drawn as SVG rather
// than emoji: a phone or desktop without an emoji font (many Linux systems)
// shows an empty box for 📍 or 📅. Decorative: hidden from screen readers,
// the text beside them says it all.
import { raw, type Html } from "./html.ts";

const svg = (paths: string): Html =>
  raw(`<svg class="icon" aria-hidden="true" focusable="false" viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round">${paths}</svg>`);

/** A map pin, for a place or a meeting point. */
export const PIN = svg('<path d="M12 22s7-6.2 7-12a7 7 0 0 0-14 0c0 5.8 7 12 7 12z"/><circle cx="12" cy="10" r="2.5"/>');

/** A calendar page, for "add to my calendar". */
export const CALENDAR = svg('<rect x="3" y="5" width="18" height="16" rx="2"/><path d="M3 10h18M8 3v4M16 3v4"/>');
