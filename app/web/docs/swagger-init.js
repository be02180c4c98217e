// Starts Swagger UI on /docs (a classic script: the page's CSP allows no inline script).
// The page gives the schema's address and, for a signed-in browser, the session's CSRF token,
// sent back on every write made from « Try it out » (a bearer token entered with « Authorize »
// needs none).
(function () {
  "use strict";
  const root = document.getElementById("swagger-ui");
  const csrfToken = root.dataset.csrfToken || "";
  const SAFE = ["GET", "HEAD", "OPTIONS"];
  window.ui = window.SwaggerUIBundle({
    url: root.dataset.openapiUrl,
    dom_id: "#swagger-ui",
    layout: "BaseLayout",
    deepLinking: true,
    validatorUrl: null, // no badge fetched from the public validator
    showExtensions: true,
    showCommonExtensions: true,
    presets: [window.SwaggerUIBundle.presets.apis, window.SwaggerUIBundle.SwaggerUIStandalonePreset],
    requestInterceptor: (request) => {
      const method = (request.method || "GET").toUpperCase();
      if (csrfToken && !SAFE.includes(method) && !request.headers["X-CSRF-Token"]) {
        request.headers["X-CSRF-Token"] = csrfToken;
      }
      return request;
    },
  });
})();
