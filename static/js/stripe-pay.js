// The Stripe card page: the card Element collects the card inside Stripe.js, and
// confirmCardPayment sends it to Stripe (running 3-D Secure when the bank asks for it).
// Whatever the answer, the buyer then lands on our return page, which asks Stripe where the
// payment stands: the server never trusts what the browser says.
document.addEventListener("DOMContentLoaded", () => {
  const form = document.getElementById("stripe-pay");
  if (!form || typeof Stripe === "undefined") return;
  const stripe = Stripe(form.dataset.publishableKey);
  const card = stripe.elements().create("card");
  card.mount("#card-element");
  const errors = document.getElementById("card-errors");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const button = form.querySelector("button[type=submit]");
    button.disabled = true;
    button.textContent = form.dataset.busyLabel;
    const result = await stripe.confirmCardPayment(form.dataset.clientSecret, {
      payment_method: { card: card },
    });
    if (result.error && result.error.message) {
      errors.textContent = result.error.message;
      errors.hidden = false;
    }
    window.location.assign(form.dataset.returnUrl);
  });
});
