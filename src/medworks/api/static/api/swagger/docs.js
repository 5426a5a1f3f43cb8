/* Starts Swagger UI on the API docs page (api/templates/api/docs.html). A static file, not an
   inline script, so the page runs under the app's strict Content-Security-Policy. The schema's
   address and, for a signed-in session, the CSRF token come from the page's data attributes. */
"use strict";

(function () {
  const root = document.getElementById("swagger-ui");
  const csrfToken = root.dataset.csrfToken;
  window.ui = SwaggerUIBundle({
    url: root.dataset.openapiUrl,
    dom_id: "#swagger-ui",
    layout: "BaseLayout",
    deepLinking: true,
    presets: [SwaggerUIBundle.presets.apis],
    requestInterceptor: function (request) {
      if (csrfToken) {
        request.headers["X-CSRFToken"] = csrfToken;
      }
      return request;
    },
  });
})();
