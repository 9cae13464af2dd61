// Every page: installs the service worker (what lets the field app open without a connection),
// and on signing out forgets what this site kept on the device (the server also asks the
// browser to, with Clear-Site-Data).
(function () {
  "use strict";
  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register("/sw.js", { scope: "/" }).catch(function () {});
  }
  var logout = document.querySelector("form.logout");
  if (logout) {
    logout.addEventListener("submit", function () {
      try {
        for (var k = localStorage.length - 1; k >= 0; k--) {
          var key = localStorage.key(k);
          if (key && key.indexOf("komlang.") === 0) localStorage.removeItem(key);
        }
      } catch (e) { /* storage unavailable: nothing kept */ }
    });
  }
})();
