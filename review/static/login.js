import { call, Refused, Unreachable } from "./api.js";

const form = document.getElementById("login");
const status = document.getElementById("status");
form.addEventListener("submit", async (event) => {
  event.preventDefault();
  status.textContent = "";
  try {
    await call("POST", "/api/login", {
      name: document.getElementById("name").value.trim(),
      password: document.getElementById("password").value,
    });
    location.assign("/");
  } catch (error) {
    status.textContent = error instanceof Unreachable || error instanceof Refused ? error.message : String(error);
  }
});
