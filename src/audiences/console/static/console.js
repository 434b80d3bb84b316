// The console works without this script; it only makes it nicer to use.
"use strict";

// The server writes times in UTC; show them in the browser's own time zone and language.
const localTime = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });
for (const time of document.querySelectorAll("time[datetime]")) {
  const moment = new Date(time.dateTime);
  if (!Number.isNaN(moment.getTime())) {
    time.title = time.textContent;
    time.textContent = localTime.format(moment);
  }
}

function openPopups() {
  return document.querySelectorAll("details.menu[open], details.confirm[open]");
}

// Escape closes an open row menu or confirmation and gives the focus back to its button.
document.addEventListener("keydown", (event) => {
  if (event.key !== "Escape") return;
  for (const popup of openPopups()) {
    popup.open = false;
    popup.querySelector("summary").focus();
  }
});

// A click elsewhere closes them too; opening one closes the others.
document.addEventListener("click", (event) => {
  for (const popup of openPopups()) {
    if (!popup.contains(event.target)) popup.open = false;
  }
});

// The name typed to confirm a large delete must match before the button does anything.
for (const input of document.querySelectorAll("input[data-must-equal]")) {
  const check = () => input.setCustomValidity(
    input.value.trim() === input.dataset.mustEqual ? "" : "Type the name exactly as shown.");
  input.addEventListener("input", check);
  check();
}

// A form that asks first (data-confirm): the page's policy allows no inline handlers.
document.addEventListener("submit", (event) => {
  const question = event.target.dataset && event.target.dataset.confirm;
  if (question && !window.confirm(question)) event.preventDefault();
});
