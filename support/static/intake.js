// Claimant form niceties; the form works the same without them (the server keeps the typed
// fields even when the files are over the limit, and the required marks are plain CSS).
(function () {
  "use strict";
  var form = document.querySelector("form.intake");
  if (!form) { return; }
  var megabyte = 1024 * 1024;
  var maxFileBytes = Number(form.dataset.maxFileMb) * megabyte;
  // the text fields travel in the same request: leave them room under the server's limit
  var maxFilesBytes = Number(form.dataset.maxRequestMb) * megabyte - 64 * 1024;
  var fileInputs = form.querySelectorAll("input[type=file]");
  var totalWarning = document.getElementById("total-warning");

  function chosenFiles() {
    var files = [];
    fileInputs.forEach(function (input) { Array.prototype.push.apply(files, input.files); });
    return files;
  }

  // The one message for the whole form: a file over its own limit, or all of them together.
  function problem() {
    var files = chosenFiles();
    var total = files.reduce(function (sum, file) { return sum + file.size; }, 0);
    if (total > maxFilesBytes) { return form.dataset.totalTooLarge; }
    var big = files.filter(function (file) { return file.size > maxFileBytes; });
    return big.length ? big[0].name + ": " + form.dataset.tooLarge : "";
  }

  function showProblem() {
    var message = problem();
    totalWarning.textContent = message;
    totalWarning.hidden = !message;
    return message;
  }

  // Previews of chosen pictures, and a warning for files over the limit.
  fileInputs.forEach(function (input) {
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
      showProblem();
    });
  });

  // Too much to send: stop here, before the upload, and say what to do.
  form.addEventListener("submit", function (event) {
    if (showProblem()) {
      event.preventDefault();
      totalWarning.focus();
    }
  });
})();
