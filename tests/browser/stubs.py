"""A stand-in for OpenAI's ``chatkit.js``, served in place of the CDN script.

It defines ``<openai-chatkit>`` and records what ``@openai/chatkit-react``
hands it: the React wrapper calls ``element.setOptions(options)`` (see
node_modules/@openai/chatkit-react/dist/index.js), so the options, functions
included, end up in ``window.__chatkitOptions``.
"""

CDN_URL = "https://cdn.platform.openai.com/deployments/chatkit/chatkit.js"

CHATKIT_STUB_JS = r"""
(() => {
  class StubChatKit extends HTMLElement {
    setOptions(options) {
      window.__chatkitOptions = options;
      window.__chatkitSetOptionsCalls = (window.__chatkitSetOptionsCalls || 0) + 1;
      this.setAttribute("data-stub", "ready");
      this.textContent = "ChatKit stand-in: " + options.api.url + " · " + options.api.domainKey;
      this.style.cssText = "display:flex;align-items:center;justify-content:center;font:16px system-ui;min-height:300px";
      this.dispatchEvent(new CustomEvent("chatkit.ready"));
    }
    setThreadId() {}
    focusComposer() {}
  }
  customElements.define("openai-chatkit", StubChatKit);
})();
"""


def serve_chatkit_stub(page) -> None:
    page.route(CDN_URL, lambda route: route.fulfill(status=200, content_type="text/javascript", body=CHATKIT_STUB_JS))


def block_chatkit_cdn(page) -> None:
    page.route(CDN_URL, lambda route: route.abort())
