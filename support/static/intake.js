// Claimant form niceties; the form works the same without them.
(function () {
  "use strict";
  var form = document.querySelector("form.intake");
  if (!form) { return; }
  var maxFileBytes = Number(form.dataset.maxFileMb) * 1024 * 1024;
  var required = {
    locked_account: ["id_document", "receipt"],
    lost_credentials: ["receipt", "box_photo", "imei_screen"],
    device_unbind: ["receipt", "box_photo"]
  };

  // Mark the evidence the chosen kind needs.
  function showNeeds() {
    var checked = form.querySelector("input[name=kind]:checked");
    var kind = checked ? checked.value : null;
    form.querySelectorAll(".needs li").forEach(function (item) {
      item.classList.toggle("current", item.dataset.kind === kind);
    });
    form.querySelectorAll(".upload").forEach(function (box) {
      box.classList.toggle("required", !!kind && required[kind].indexOf(box.dataset.evidence) >= 0);
    });
  }
  form.querySelectorAll("input[name=kind]").forEach(function (radio) { radio.addEventListener("change", showNeeds); });
  showNeeds();

  // Previews of chosen pictures, and a warning for files over the limit.
  form.querySelectorAll("input[type=file]").forEach(function (input) {
    input.addEventListener("change", function () {
      var previews = input.parentElement.querySelector(".previews");
      previews.textContent = "";
      Array.prototype.forEach.call(input.files, function (file) {
        if (file.size > maxFileBytes) {
          var warning = document.createElement("p");
          warning.className = "too-large";
          warning.textContent = file.name + ": " + form.dataset.tooLarge;
          previews.appendChild(warning);
        } else if (/^image\/(jpeg|png|webp)$/.test(file.type)) {
          var image = document.createElement("img");
          image.alt = file.name;
          image.src = URL.createObjectURL(file);
          previews.appendChild(image);
        }
      });
    });
  });
})();
