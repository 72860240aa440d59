/**
 * Starts Swagger UI (loaded before this file from swagger-ui-bundle.js) on the bridge's OpenAPI
 * document. A separate file, not an inline script, so the page keeps a strict CSP.
 */
declare const SwaggerUIBundle: ((options: Record<string, unknown>) => unknown) & {
  presets: { apis: unknown };
};

window.addEventListener('DOMContentLoaded', () => {
  SwaggerUIBundle({
    // The page is /api/docs: openapi.json resolves to /api/openapi.json under any route prefix.
    url: new URL('openapi.json', window.location.href).toString(),
    dom_id: '#swagger-ui',
    presets: [SwaggerUIBundle.presets.apis],
    deepLinking: true,
    // The key typed into "Authorize" must not outlive the page.
    persistAuthorization: false,
    validatorUrl: null,
  });
});
