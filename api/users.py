"""The signed-in user's own profile."""
from __future__ import annotations

from flask.views import MethodView
from flask_jwt_extended import current_user, jwt_required
from flask_smorest import Blueprint, abort

from api.auth import password_hashing
from api.schemas.auth import AnalysisBudgetSchema, ProfileSchema, ProfileUpdateSchema
from api.security import current_session_id, issue_tokens
from models import AuthSession, db
from services import llm_budget
from services.passwords import WeakPassword, check_password_strength

blp = Blueprint("users", __name__, url_prefix="/api/user", description="My account")


@blp.route("/profile")
class Profile(MethodView):
    decorators = [jwt_required()]

    @blp.response(200, ProfileSchema)
    def get(self):
        """My profile"""
        return current_user

    @blp.arguments(ProfileUpdateSchema(), required=False)  # every field is optional
    @blp.response(200, ProfileSchema)
    @blp.alt_response(403, description="current_password is wrong")
    def patch(self, data: dict):
        """Change my display name and/or password.

        Changing the password signs out every other session; the response carries a fresh
        token pair for this one.
        """
        user = current_user
        if "display_name" in data:
            user.display_name = data["display_name"]
        tokens = None
        if "new_password" in data:
            hashing = password_hashing()
            if not hashing.verify(user.password_hash, data["current_password"]):
                abort(403, message="The current password is wrong.")
            try:
                check_password_strength(data["new_password"], email=user.email)
            except WeakPassword as exc:
                abort(422, message=str(exc), errors={"json": {"new_password": [str(exc)]}})
            user.password_hash = hashing.hash(data["new_password"])
            session = db.session.get(AuthSession, current_session_id())
            user.revoke_sessions(except_session=session.id)
            tokens = issue_tokens(user, session)
        db.session.commit()
        profile = {field: getattr(user, field) for field in ("id", "email", "display_name", "role", "created_at")}
        return {**profile, "tokens": tokens} if tokens else profile


@blp.route("/analysis-budget")
@jwt_required()
@blp.response(200, AnalysisBudgetSchema)
def analysis_budget():
    """My daily LLM analysis budget, what I have spent of it today, and when it resets"""
    return llm_budget.status(current_user.id)
