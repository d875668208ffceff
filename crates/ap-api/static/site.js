// Search as you type on the browse page (progressive enhancement: without JavaScript the
// search form submits as usual). After a pause in typing, the page for the new query is
// fetched from this server and its results and categories replace the shown ones; the
// address bar follows, so the page can be reloaded or shared. A failed fetch keeps what
// is shown.
(function () {
  "use strict";
  var form = document.querySelector("form.browse");
  var box = document.getElementById("q");
  if (!form || !box) {
    return;
  }
  var PAUSE_MS = 250;
  var timer = null;
  var pending = null;
  var shown = box.value;

  function swap(doc, selector) {
    var fresh = doc.querySelector(selector);
    var old = document.querySelector(selector);
    if (fresh && old) {
      old.replaceWith(document.importNode(fresh, true));
    }
  }

  function refresh() {
    if (box.value === shown) {
      return;
    }
    var params = new URLSearchParams(new FormData(form));
    params.delete("page");
    var url = "/?" + params.toString();
    if (pending) {
      pending.abort();
    }
    pending = new AbortController();
    var asked = box.value;
    fetch(url, { signal: pending.signal, credentials: "same-origin" })
      .then(function (res) {
        if (!res.ok) {
          throw new Error("status " + res.status);
        }
        return res.text();
      })
      .then(function (html) {
        var doc = new DOMParser().parseFromString(html, "text/html");
        swap(doc, "section.results");
        swap(doc, "nav.categories");
        document.title = doc.title;
        history.replaceState(null, "", url);
        shown = asked;
      })
      .catch(function () {});
  }

  box.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(refresh, PAUSE_MS);
  });
})();
