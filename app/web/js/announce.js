// One polite live region for the whole page (screen readers): each change of a live figure —
// the edited perimeter's population and size, the coverage status, the zones blanches summary,
// the commune reached with the arrow keys — is announced once, as one short sentence, however
// many times the visible panel is redrawn on the way. `liveMessage` (pure) is unit-tested.

const REGION_ID = "live-announcer";

/** The text to write, or null when it would repeat what the region already says. */
export function liveMessage(previous, next) {
  // (ordinary spaces only: the narrow no-break spaces of numbers stay, « 12 345 » is one number)
  const text = String(next ?? "").replace(/[ \t\r\n]+/g, " ").trim();
  return text && text !== previous ? text : null;
}

function region() {
  let box = document.getElementById(REGION_ID);
  if (!box) {
    box = document.createElement("div");
    box.id = REGION_ID;
    box.className = "sr-only";
    box.setAttribute("role", "status");
    box.setAttribute("aria-live", "polite");
    box.setAttribute("aria-atomic", "true");
    document.body.append(box);
  }
  return box;
}

/** Say `message` politely, once (one mutation of the region; the same words again: nothing). */
export function announce(message) {
  const box = region();
  const text = liveMessage(box.textContent, message);
  if (text !== null) box.textContent = text;
}
