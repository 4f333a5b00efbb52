// Keyboard-first paper entry: Enter moves to the next field and saves from the last one; a
// complete code moves on by itself (never past the last field: saving takes an Enter or a
// click). Without JavaScript, Tab and the Save button still work.
document.addEventListener("DOMContentLoaded", function () {
  var form = document.querySelector("form.entry");
  if (!form) { return; }
  var fields = Array.prototype.slice.call(form.querySelectorAll("input[type=text]"));
  var sent = false;
  form.addEventListener("submit", function (event) {
    if (sent) { event.preventDefault(); }  // one save per page, however often Enter is hit
    sent = true;
  });
  function following(field) {
    var i = fields.indexOf(field);
    return i >= 0 && i + 1 < fields.length ? fields[i + 1] : null;
  }
  fields.forEach(function (field) {
    var codes = (field.dataset.codes || "").split(",").filter(Boolean);
    field.addEventListener("keydown", function (event) {
      if (event.key !== "Enter") { return; }
      event.preventDefault();
      var next = following(field);
      if (next) { next.focus(); next.select(); }
      else if (form.requestSubmit) { form.requestSubmit(); }
      else { form.submit(); }
    });
    if (!codes.length) { return; }
    field.addEventListener("input", function () {
      var value = field.value.trim();
      var valid = value === "" || codes.indexOf(value) >= 0;
      field.classList.toggle("bad", !valid);
      var longer = codes.some(function (c) { return c !== value && c.indexOf(value) === 0; });
      var next = following(field);
      if (value !== "" && valid && !longer && next) { next.focus(); next.select(); }
    });
  });
});
