/* Leaflet.VectorGrid 1.3.0 (the last release) calls L.DomEvent.fakeStop() when a feature of a
   canvas tile is clicked; Leaflet 1.8 removed that function, so every click threw.
   Leaflet.VectorGrid#288 (merged, unreleased) replaces it with a stop; this classic script does
   the same before any tile exists. It must load after leaflet.js and the VectorGrid bundle. */
(function () {
  "use strict";
  if (window.L && L.DomEvent && typeof L.DomEvent.fakeStop !== "function") {
    L.DomEvent.fakeStop = function (event) {
      L.DomEvent.stopPropagation(event);
    };
  }
})();
