// Confirmation boxes of destructive actions (Warehouse's modals): the submit button of a form
// whose input has data-expected stays disabled until the text typed there matches it exactly.
// A convenience only: the server checks the typed text again and refuses a mismatch.
"use strict";
(function () {
  document.querySelectorAll("form input[data-expected]").forEach(function (input) {
    var button = input.form.querySelector("button[type=submit]");
    if (!button) {
      return;
    }
    function update() {
      button.disabled = input.value !== input.dataset.expected;
    }
    input.addEventListener("input", update);
    update();
  });
})();
