// Order pages: small enhancements; every page works without JavaScript.
document.addEventListener("DOMContentLoaded", () => {
  // One click places one order: the button is disabled once the form is sent (the server
  // also makes a second submit find the first order, this just avoids the wait).
  document.querySelectorAll("form[data-once]").forEach((form) => {
    form.addEventListener("submit", () => {
      form.querySelectorAll("button[type=submit]").forEach((button) => {
        button.disabled = true;
        button.textContent = button.dataset.busyLabel || button.textContent;
      });
    });
  });
  // Card fields only matter when paying by card.
  const methods = document.querySelectorAll("input[name=method]");
  const cardFields = document.querySelector("[data-card-fields]");
  const sync = () => {
    const card = document.querySelector("input[name=method]:checked");
    if (cardFields) cardFields.hidden = card && card.value !== "card";
  };
  methods.forEach((input) => input.addEventListener("change", sync));
  sync();
  // A parcel awaiting an asynchronous payment confirmation: look again in a few seconds.
  const pending = document.querySelector("[data-refresh-after]");
  if (pending) {
    window.setTimeout(() => window.location.reload(), Number(pending.dataset.refreshAfter) * 1000);
  }
});
