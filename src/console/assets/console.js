// hookgate console: the few things the server-rendered pages cannot do alone.
// - times in the browser's time zone (the UTC time stays as the hover title);
// - search forms that leave empty fields out of the URL, so shared links stay short;
// - live parts: an element with an id and data-live="<ms>" is refreshed from the page's own
//   URL every <ms> while the tab is visible, for as long as the server keeps data-live on it.

const localTime = new Intl.DateTimeFormat(undefined, {
  dateStyle: "medium",
  timeStyle: "medium",
});

function localizeTimes(root) {
  for (const element of root.querySelectorAll("time[datetime]")) {
    const at = new Date(element.getAttribute("datetime"));
    if (!Number.isNaN(at.getTime())) {
      element.textContent = localTime.format(at);
    }
  }
}

function dropEmptyFields(form) {
  form.addEventListener("submit", () => {
    for (const field of form.elements) {
      if (field.name && field.value.trim() === "") {
        field.disabled = true;
      }
    }
  });
  // Back to a page whose fields were disabled on submit: enable them again.
  window.addEventListener("pageshow", () => {
    for (const field of form.elements) {
      field.disabled = false;
    }
  });
}

// The markup the server last sent for each live element, to tell a change from our own edits.
const served = new Map();

function watch(element) {
  const interval = Number(element.dataset.live);
  if (!element.id || !(interval > 0)) {
    return;
  }
  setTimeout(() => refresh(element.id, interval), interval);
}

async function refresh(id, interval) {
  const current = document.getElementById(id);
  if (!current) {
    return;
  }
  if (document.hidden) {
    setTimeout(() => refresh(id, interval), interval);
    return;
  }
  let fresh;
  try {
    const response = await fetch(window.location.href, { credentials: "same-origin" });
    if (new URL(response.url).pathname === "/sign-in") {
      window.location.assign(response.url); // the session ended: sign in again
      return;
    }
    if (!response.ok) {
      throw new Error(`HTTP ${response.status}`);
    }
    const page = new DOMParser().parseFromString(await response.text(), "text/html");
    fresh = page.getElementById(id);
  } catch {
    setTimeout(() => refresh(id, interval), interval * 2); // try again, more slowly
    return;
  }
  if (!fresh) {
    return;
  }
  if (fresh.outerHTML !== served.get(id)) {
    served.set(id, fresh.outerHTML);
    replace(current, document.importNode(fresh, true));
  } else if (fresh.dataset.live === undefined) {
    delete current.dataset.live;
  }
  const next = document.getElementById(id);
  if (next && next.dataset.live !== undefined) {
    watch(next);
  }
}

// Swaps in the new element, keeping what the person was doing: focus, open disclosures; rows
// that were not there before are marked so they stand out for a moment.
function replace(current, fresh) {
  const holder = document.activeElement?.closest("[data-id], [data-key]");
  const focused = holder && current.contains(holder) ? keyOf(holder) : null;
  const open = new Set([...current.querySelectorAll("details[data-key][open]")].map(keyOf));
  const known = new Set([...current.querySelectorAll("[data-id]")].map(keyOf));
  for (const details of fresh.querySelectorAll("details[data-key]")) {
    details.open ||= open.has(keyOf(details));
  }
  for (const item of fresh.querySelectorAll("[data-id]")) {
    if (!known.has(keyOf(item))) {
      item.classList.add("fresh");
    }
  }
  localizeTimes(fresh);
  current.replaceWith(fresh);
  if (focused) {
    const again = [...fresh.querySelectorAll("[data-id], [data-key]")].find(
      (e) => keyOf(e) === focused,
    );
    (again?.querySelector("a, summary, button") ?? again)?.focus();
  }
}

function keyOf(element) {
  return element.dataset.id ? `id:${element.dataset.id}` : `key:${element.dataset.key}`;
}

for (const element of document.querySelectorAll("[data-live][id]")) {
  served.set(element.id, element.outerHTML);
  watch(element);
}
localizeTimes(document);
for (const form of document.querySelectorAll("form[data-drop-empty]")) {
  dropEmptyFields(form);
}
