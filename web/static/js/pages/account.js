// My account: display name, password change, and today's analysis budget.
import { api } from "../api.js";
import { formatDateTime, h, notify, replace } from "../dom.js";
import { field, form, load } from "../ui.js";

export async function accountPage(container) {
  await api.profileReady;
  const budget = h("div");
  replace(container, h("h1", {}, "Account"),
    h("p", {}, "Signed in as ", h("strong", {}, api.user?.email || "")),
    h("section", { class: "panel", "aria-labelledby": "budget-title" }, h("h2", { id: "budget-title" }, "Daily analysis budget"), budget),
    h("section", { class: "panel", "aria-labelledby": "name-title" }, h("h2", { id: "name-title" }, "Display name"),
      form({
        label: "Display name",
        fields: [field({ label: "Display name", name: "display_name", value: api.user?.display_name || "" })],
        submitLabel: "Save name",
        onSubmit: async (values) => {
          api.user = await api.request("PATCH", "/api/user/profile", { json: { display_name: values.display_name || null } });
          notify("Name saved.");
        },
      })),
    h("section", { class: "panel", "aria-labelledby": "password-title" }, h("h2", { id: "password-title" }, "Change password"),
      form({
        label: "Change password",
        fields: [
          field({ label: "Current password", name: "current_password", type: "password", required: true, autocomplete: "current-password" }),
          field({ label: "New password", name: "new_password", type: "password", required: true, autocomplete: "new-password" }),
        ],
        submitLabel: "Change password",
        onSubmit: async (values, el) => {
          const profile = await api.request("PATCH", "/api/user/profile", { json: values });
          if (profile.tokens) api.accessToken = profile.tokens.access_token;
          el.reset();
          notify("Password changed. Your other sessions are signed out.");
        },
      })));
  await load(budget, async () => {
    const b = await api.request("GET", "/api/user/analysis-budget");
    return h("dl", { class: "facts" },
      h("dt", {}, "Budget per day"), h("dd", {}, b.budget_usd === null ? "Unlimited" : `$${b.budget_usd}`),
      h("dt", {}, "Spent today"), h("dd", {}, b.spent_usd === null ? "Not known right now" : `$${b.spent_usd}`),
      h("dt", {}, "Resets"), h("dd", {}, formatDateTime(b.resets_at)));
  });
}
