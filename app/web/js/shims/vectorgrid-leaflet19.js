/* Leaflet.VectorGrid 1.3.0 (the last release) calls L.DomEvent.fakeStop() when a feature of a
   canvas tile gets a mouse event; Leaflet 1.8 removed that function, so every click threw.
   In Leaflet 1.7, fakeStop only told the map's own DOM handler to skip the event, which went
   on bubbling; Leaflet 1.9 already skips events whose target is a canvas renderer
   (`_leaflet_disable_events`), so nothing is left to do. The event must keep bubbling: the
   document's mouseup is what ends a rectangle drawn with Leaflet.draw, and the map
   container's mousedown what starts dragging the map (a real stopPropagation, as in
   Leaflet.VectorGrid#288, left a rectangle released over a commune unfinished). This classic
   script loads after leaflet.js and the VectorGrid bundle, before any tile exists. */
(function () {
  "use strict";
  if (window.L && L.DomEvent && typeof L.DomEvent.fakeStop !== "function") {
    L.DomEvent.fakeStop = function () {};
  }
})();
