// The console's service worker (console.md "Serving": it works through power cuts and
// dead links). It keeps the console's own files, so that a tab reloads with no link at
// all; it never touches the API (/v1/...) nor anything of another origin. The relay
// fills in VERSION (a hash of every file) and PRECACHED when it serves this script, so a
// new release of the relay replaces the kept files at the next load.

const VERSION = "__VERSION__";
const PRECACHED = ["__PRECACHED__"];
const CACHE = `relay-console-${VERSION}`;
const CONFIG = "/console/config.json";

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(CACHE)
    .then((cache) => cache.addAll([...PRECACHED, CONFIG]))
    .then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(caches.keys()
    .then((names) => Promise.all(names
      .filter((name) => name.startsWith("relay-console-") && name !== CACHE)
      .map((name) => caches.delete(name))))
    .then(() => self.clients.claim()));
});

self.addEventListener("fetch", (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== "GET" || url.origin !== self.location.origin) return;
  if (url.pathname === CONFIG) {
    event.respondWith(networkFirst(event.request));
  } else if (PRECACHED.includes(url.pathname)) {
    event.respondWith(cacheFirst(event.request, url.pathname));
  }
});

async function cacheFirst(request, path) {
  const cache = await caches.open(CACHE);
  const kept = await cache.match(path);
  return kept || fetch(request);
}

async function networkFirst(request) {
  const cache = await caches.open(CACHE);
  try {
    const response = await fetch(request);
    if (response.ok) await cache.put(CONFIG, response.clone());
    return response;
  } catch (error) {
    const kept = await cache.match(CONFIG);
    if (kept) return kept;
    throw error;
  }
}
