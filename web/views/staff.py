"""Staff accounts, managed by administrators: who may log in, in which role."""

from __future__ import annotations

from flask import Blueprint, abort, flash, g, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from wtforms import PasswordField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Regexp

from eventops import db
from web.auth import StaffIdentity, admins, end_sessions, hash_password, remember_staff
from web.formatting import label
from web.models import Role, StaffAccount

bp = Blueprint("staff", __name__, url_prefix="/staff")

MIN_PASSWORD_LENGTH = 10


class StaffForm(FlaskForm):
    username = StringField(
        _l("Username"),
        validators=[
            DataRequired(),
            Length(min=3, max=64),
            Regexp(
                r"^[A-Za-z0-9._-]+$", message=_l("Latin letters, digits, dots, hyphens and underscores only.")
            ),
        ],
    )
    full_name = StringField(_l("Full name"), validators=[DataRequired(), Length(max=200)])
    role = SelectField(_l("Role"), choices=[SelectChoice(r.value) for r in Role])
    password = PasswordField(
        _l("Password"), validators=[DataRequired(), Length(min=MIN_PASSWORD_LENGTH, max=200)]
    )


class PasswordForm(FlaskForm):
    password = PasswordField(
        _l("New password"), validators=[DataRequired(), Length(min=MIN_PASSWORD_LENGTH, max=200)]
    )


def _account(account_id: int) -> StaffAccount:
    account = db.session().get(StaffAccount, account_id)
    if account is None:
        abort(404)
    return account


def _form_with_role_labels() -> StaffForm:
    form = StaffForm()
    form.role.choices = [SelectChoice(r.value, label(r)) for r in Role]
    return form


@bp.route("/", methods=["GET", "POST"])
@admins
def index():
    form = _form_with_role_labels()
    status = 200
    if form.validate_on_submit():
        account = StaffAccount(
            username=form.username.data.strip().lower(),
            full_name=form.full_name.data.strip(),
            role=Role(form.role.data),
            password_hash=hash_password(form.password.data),
        )
        db.session().add(account)
        try:
            db.session().commit()
        except IntegrityError:
            db.session().rollback()
            form.username.errors.append(_("This username is taken."))
            status = 409
        else:
            flash(_("Account %(username)s created.", username=account.username))
            return redirect(url_for("staff.index"), 303)
    elif form.is_submitted():
        status = 422
    accounts = (
        db.session().scalars(select(StaffAccount).order_by(StaffAccount.role, StaffAccount.username)).all()
    )
    return render_template("staff/index.html", accounts=accounts, form=form), status


@bp.post("/<int:account_id>/active")
@admins
def toggle_active(account_id: int):
    account = _account(account_id)
    if account.id == g.staff.id:
        flash(_("You cannot deactivate your own account."))
    else:
        account.active = not account.active
        if not account.active:
            end_sessions(account)  # its open tablets are logged out, not only refused a new login
        db.session().commit()
        flash(
            _("Account %(username)s is active again.", username=account.username)
            if account.active
            else _("Account %(username)s is deactivated; it can no longer log in.", username=account.username)
        )
    return redirect(url_for("staff.index"), 303)


@bp.route("/<int:account_id>/password", methods=["GET", "POST"])
@admins
def set_password(account_id: int):
    account = _account(account_id)
    form = PasswordForm()
    if form.validate_on_submit():
        account.password_hash = hash_password(form.password.data)
        end_sessions(account)  # whoever knew the old password is logged out everywhere
        db.session().commit()
        if account.id == g.staff.id:
            remember_staff(StaffIdentity.of(account))  # the admin who set it stays logged in here
        flash(_("New password set for %(username)s.", username=account.username))
        return redirect(url_for("staff.index"), 303)
    return render_template(
        "staff/password.html", account=account, form=form
    ), 422 if form.is_submitted() else 200
