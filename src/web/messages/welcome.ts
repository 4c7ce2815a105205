// Messages of a new member's home page: the welcome box and its suggestions
// (src/web/routes/welcome.ts). French first; every key has its English twin.
export const fr = {
  "welcome.title": "Bienvenue sur {instance} !",
  "welcome.intro": "Votre fil se remplira des messages des personnes et des groupes que vous suivez. En attendant, voici ceux de la section, et quelques pas pour commencer :",
  "welcome.profile": "Complétez votre profil : un nom et quelques mots sur vous",
  "welcome.groups": "Rejoignez les groupes thématiques qui vous intéressent",
  "welcome.agenda": "Consultez l'agenda : réunions, actions, événements",
  "welcome.app": "Sur votre téléphone, installez une application Mastodon (Tusky, Ivory, Elk, Phanpy…) et connectez-vous avec l'adresse de l'instance :",
  "welcome.app_push": "Vous y recevrez vos notifications, même téléphone verrouillé.",
  "welcome.people": "Des membres à suivre",
  "welcome.follow_label": "Suivre {who}",
  "welcome.groups_title": "Des groupes à rejoindre",
  "welcome.posts": "Ci-dessous : les messages de la section que vous pouvez lire.",
} as const;

export const en: Record<keyof typeof fr, string> = {
  "welcome.title": "Welcome to {instance}!",
  "welcome.intro": "Your timeline will fill with posts from the people and groups you follow. Meanwhile, here are the section's, and a few first steps:",
  "welcome.profile": "Complete your profile: a name and a few words about you",
  "welcome.groups": "Join the thematic groups you care about",
  "welcome.agenda": "Look at the agenda: meetings, actions, events",
  "welcome.app": "On your phone, install a Mastodon app (Tusky, Ivory, Elk, Phanpy…) and log in with this instance's address:",
  "welcome.app_push": "It will bring you your notifications, even with the phone locked.",
  "welcome.people": "Members to follow",
  "welcome.follow_label": "Follow {who}",
  "welcome.groups_title": "Groups to join",
  "welcome.posts": "Below: the section's posts you may read.",
};
