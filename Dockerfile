FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /app
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
COPY . .
RUN useradd --create-home applytrack && mkdir -p /app/var /app/instance && chown -R applytrack /app/var /app/instance
USER applytrack
ENV FLASK_APP=wsgi
EXPOSE 5000
CMD ["gunicorn", "--bind", "0.0.0.0:5000", "--workers", "2", "--threads", "8", "--preload", "--access-logfile", "-", "wsgi:app"]
