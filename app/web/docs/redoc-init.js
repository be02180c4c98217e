// Starts ReDoc on /redoc (a classic script: the page's CSP allows no inline script).
(function () {
  "use strict";
  const root = document.getElementById("redoc");
  window.Redoc.init(root.dataset.openapiUrl, { hideDownloadButton: false }, root);
})();
