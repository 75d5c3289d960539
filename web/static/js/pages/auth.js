import { api } from "../api.js";
import { h, replace } from "../dom.js";
import { field, form } from "../ui.js";

const signedIn = () => window.dispatchEvent(new Event("applytrack:signed-in"));

export function signInPage(container) {
  replace(container,
    h("section", { class: "auth-card", "aria-labelledby": "signin-title" },
      h("h1", { id: "signin-title" }, "Sign in"),
      form({
        label: "Sign in",
        fields: [
          field({ label: "Email", name: "email", type: "email", required: true, autocomplete: "username" }),
          field({ label: "Password", name: "password", type: "password", required: true, autocomplete: "current-password" }),
        ],
        submitLabel: "Sign in",
        onSubmit: async (values) => { await api.signIn(values.email, values.password); signedIn(); },
      }),
      h("p", {}, "New here? ", h("a", { href: "#/signup" }, "Create an account"))));
}

export function signUpPage(container) {
  replace(container,
    h("section", { class: "auth-card", "aria-labelledby": "signup-title" },
      h("h1", { id: "signup-title" }, "Create your account"),
      form({
        label: "Create your account",
        fields: [
          field({ label: "Email", name: "email", type: "email", required: true, autocomplete: "username" }),
          field({ label: "Password", name: "password", type: "password", required: true, autocomplete: "new-password",
                  hint: "At least 10 characters; a passphrase of a few words works well." }),
          field({ label: "Display name (optional)", name: "display_name", autocomplete: "nickname" }),
        ],
        submitLabel: "Create account",
        onSubmit: async (values) => { await api.register(values.email, values.password, values.display_name); signedIn(); },
      }),
      h("p", {}, "Already have an account? ", h("a", { href: "#/signin" }, "Sign in"))));
}
