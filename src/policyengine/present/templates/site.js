/* The docs site's language switch.  Runs in <head> so the page never shows the wrong language first. */
(function () {
  var d = document.documentElement, KEY = "policyengine-lang";
  function stored() { try { return window.localStorage.getItem(KEY); } catch (e) { return null; } }
  function set(lang, remember) {
    var fr = lang === "fr";
    d.classList.toggle("lang-fr", fr);
    d.setAttribute("lang", fr ? "fr" : "en");
    var t = d.getAttribute(fr ? "data-title-fr" : "data-title-en");
    if (t) { document.title = t; }
    if (remember) { try { window.localStorage.setItem(KEY, fr ? "fr" : "en"); } catch (e) {} }
  }
  var h = window.location.hash;
  if (h === "#fr" || h === "#en") { set(h.slice(1), true); } else { set(stored() === "fr" ? "fr" : "en", false); }
  document.addEventListener("DOMContentLoaded", function () {
    var b = document.getElementById("lang-switch");
    if (b) {
      b.hidden = false;
      b.addEventListener("click", function () {
        var lang = d.classList.contains("lang-fr") ? "en" : "fr";
        set(lang, true);
        var h = window.location.hash;
        if (h === "#fr" || h === "#en") {
          try { history.replaceState(null, "", "#" + lang); } catch (e) {}
        }
      });
    }
    /* Where the browser keeps no storage for file:// pages, links carry the choice. */
    document.addEventListener("click", function (ev) {
      var a = ev.target && ev.target.closest ? ev.target.closest("a[href]") : null;
      if (!a || !d.classList.contains("lang-fr")) { return; }
      var href = a.getAttribute("href");
      if (href && href.indexOf("#") < 0 && href.indexOf(":") < 0) { a.setAttribute("href", href + "#fr"); }
    });
  });
})();
