// Times come from the server in UTC ("… UTC", correct without script); here they are
// shown in the browser's own time zone, in the page's language. The UTC text stays as a tooltip.
(function () {
  "use strict";
  var format;
  try {
    format = new Intl.DateTimeFormat(document.documentElement.lang || undefined, {
      year: "numeric", month: "short", day: "numeric", hour: "2-digit", minute: "2-digit", timeZoneName: "short"
    });
  } catch (error) {
    return;  // no Intl: UTC it stays
  }
  document.querySelectorAll("time.local-time[datetime]").forEach(function (element) {
    var moment = new Date(element.getAttribute("datetime"));
    if (isNaN(moment.getTime())) { return; }
    element.title = element.textContent;
    element.textContent = format.format(moment);
    element.dataset.localised = "true";
  });
})();
