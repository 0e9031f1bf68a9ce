// Starts Swagger UI on /openapi.json (served by the API). No validator: it would call an
// outside host; "Try it out" sends requests to this origin only.
window.addEventListener('DOMContentLoaded', () => {
  window.ui = window.SwaggerUIBundle({
    url: '/openapi.json',
    dom_id: '#swagger-ui',
    deepLinking: true,
    validatorUrl: null,
    presets: [window.SwaggerUIBundle.presets.apis],
    layout: 'BaseLayout',
    persistAuthorization: false,
    tryItOutEnabled: false,
  });
});
