// MathJax 2 from the copy served with the site (jupyter-server-mathjax, in mathjax/: no CDN, so the site works
// offline). That copy has the HTML-CSS output with the STIX-Web fonts only, so every page must ask for them.
//  - A chapter page loads MathJax itself (mkdocs-jupyter); scripts/site_hooks.py puts this file, marked
//    data-chapter, just before it: it only sets the fonts.
//  - A Markdown page (every page includes this file at its end): when it has an equation (pymdownx.arithmatex
//    wraps each in an element of class "arithmatex", as \( ... \) or \[ ... \]), MathJax is loaded here.
(function () {
  var fonts = {"HTML-CSS": {availableFonts: [], preferredFont: null, webFont: "STIX-Web", imageFont: null},
               messageStyle: "none"};
  var here = document.currentScript;
  if (window.MathJax) return;                        // a chapter page, whose MathJax is already there
  if (here.hasAttribute("data-chapter")) {
    window.MathJax = fonts;                          // read by the chapter's MathJax.js when it loads
    return;
  }
  document.addEventListener("DOMContentLoaded", function () {
    if (window.MathJax || !document.querySelector(".arithmatex")) return;
    window.MathJax = Object.assign({}, fonts, {
      tex2jax: {inlineMath: [["\\(", "\\)"]], displayMath: [["\\[", "\\]"]], processEscapes: false,
                processClass: "arithmatex", ignoreClass: ".*"}});
    var script = document.createElement("script");
    script.src = new URL("../mathjax/MathJax.js?config=TeX-AMS-MML_HTMLorMML-full,Safe", here.src).href;
    document.head.appendChild(script);
  });
})();
