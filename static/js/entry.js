// Keyboard-first paper entry: Enter moves to the next field (and saves on the last one); a
// complete code moves on by itself. Without JavaScript, Tab and the Save button still work.
document.addEventListener("DOMContentLoaded", function () {
  var form = document.querySelector("form.entry");
  if (!form) { return; }
  var fields = Array.prototype.slice.call(form.querySelectorAll("input[type=text]"));
  function next(field) {
    var i = fields.indexOf(field);
    if (i >= 0 && i + 1 < fields.length) { fields[i + 1].focus(); fields[i + 1].select(); }
    else { form.requestSubmit ? form.requestSubmit() : form.submit(); }
  }
  fields.forEach(function (field) {
    var codes = (field.dataset.codes || "").split(",").filter(Boolean);
    field.addEventListener("keydown", function (event) {
      if (event.key === "Enter") { event.preventDefault(); next(field); }
    });
    if (!codes.length) { return; }
    field.addEventListener("input", function () {
      var value = field.value.trim();
      var valid = value === "" || codes.indexOf(value) >= 0;
      field.classList.toggle("bad", !valid);
      var longer = codes.some(function (c) { return c !== value && c.indexOf(value) === 0; });
      if (value !== "" && valid && !longer) { next(field); }
    });
  });
});
